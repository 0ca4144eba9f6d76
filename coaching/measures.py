"""Named body measures computed from one frame, each None when the joints it needs are not visible.

Exercise specs refer to these by name ("knee_angle", "hip_sag" ...), which is what lets an
exercise be pure data. Bilateral measures are combined per measure: "best" takes the side the
model is surer of (in a side view the far limb is half hidden and often misplaced) and averages
both sides when they are equally sure (front view).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np

from coaching.geometry import Pose, angle_at, distance, inclination, offset_from_line, signed_tilt
from coaching.skeleton import SIDES, Joint, Side

Combine = Literal["best", "min", "max"]
_SURE_MARGIN = 0.15  # confidences closer than this count as "equally sure": average both sides
_MIN_FACING_PX = 2.0


@dataclass(frozen=True, slots=True)
class Measure:
    """A named measure: its unit and a short label for spoken/written facts."""

    name: str
    unit: str
    label: str
    fn: Callable[[Pose], float | None]

    def __call__(self, pose: Pose) -> float | None:
        return self.fn(pose)

    def spoken(self, value: float) -> str:
        """A value with its unit, as said to the person: whole degrees, other units to a tenth
        (a hand 0.4 torso lengths above the shoulder would round to 0)."""
        return f"{self._number(value)} {'degrees' if self.unit == 'deg' else self.unit}"

    def spoken_range(self, low: float, high: float) -> str:
        """"from 26 to 124 degrees", "from -0.4 to 1.2 torso lengths"."""
        return f"from {self._number(low)} to {self.spoken(high)}"

    def _number(self, value: float) -> str:
        return f"{value:.0f}" if self.unit == "deg" else f"{value:.1f}"


def _bilateral(pose: Pose, parts: tuple[str, ...], per_side: Callable[[Side], float | None],
               combine: Combine, apart: float | None = None) -> float | None:
    """One value from both sides. "min" / "max": the lower / higher side's value; with `apart`, only
    while the two sides differ by more than it (one limb working, the other at rest), else as
    "best": the more confident side's, or both averaged when about as sure (so a far limb read a
    little off does not decide)."""
    values = {s: per_side(s) for s in SIDES}
    present = {s: v for s, v in values.items() if v is not None and math.isfinite(v)}
    if not present:
        return None
    if len(present) == 1:
        return next(iter(present.values()))
    if combine != "best" and (apart is None or abs(present["left"] - present["right"]) > apart):
        return min(present.values()) if combine == "min" else max(present.values())
    cl, cr = pose.side_confidence(parts, "left"), pose.side_confidence(parts, "right")
    if abs(cl - cr) < _SURE_MARGIN:
        return (present["left"] + present["right"]) / 2.0
    return present["left"] if cl > cr else present["right"]


def facing(pose: Pose) -> float | None:
    """+1 when the person faces image right, -1 left (from where the nose is); None when unclear.

    Only meaningful in a side view, where the nose sits ahead of the ears and shoulders.
    """
    nose = pose.point(Joint.NOSE)
    if nose is None:
        return None
    for ref in (pose.mid(Joint.LEFT_EAR, Joint.RIGHT_EAR), pose.shoulder_mid):
        if ref is not None and abs(nose[0] - ref[0]) >= _MIN_FACING_PX:
            return 1.0 if nose[0] > ref[0] else -1.0
    return None


def _joint_angle(a: str, b: str, c: str, combine: Combine, apart: float | None = None
                 ) -> Callable[[Pose], float | None]:
    parts = (a, b, c)

    def fn(pose: Pose) -> float | None:
        return _bilateral(pose, parts, lambda s: angle_at(pose.side_point(a, s), pose.side_point(b, s),
                                                          pose.side_point(c, s)), combine, apart)

    return fn


def torso_lean(pose: Pose) -> float | None:
    """Trunk angle from vertical (hips to shoulders), degrees: 0 upright, 90 lying."""
    return inclination(pose.hip_mid, pose.shoulder_mid)


def back_lean(pose: Pose) -> float | None:
    """Trunk tilt backwards (shoulders behind the hips), degrees; negative when leaning forward. Side view."""
    f = facing(pose)
    return None if f is None else signed_tilt(pose.hip_mid, pose.shoulder_mid, -f)


def leg_incline(pose: Pose) -> float | None:
    """Angle of ankles→hips from vertical, degrees: 0 standing, about 80-90 in a plank."""
    ankles = pose.mid(Joint.LEFT_ANKLE, Joint.RIGHT_ANKLE)
    return inclination(ankles, pose.hip_mid)


def hip_below_knee(pose: Pose) -> float | None:
    """How far the hip is below the knee, in thigh lengths (> 0: below parallel). Side view."""
    def side(s: Side) -> float | None:
        hip, knee = pose.side_point("hip", s), pose.side_point("knee", s)
        thigh = distance(hip, knee)
        if hip is None or knee is None or not thigh:
            return None
        return float(hip[1] - knee[1]) / thigh

    return _bilateral(pose, ("hip", "knee"), side, "best")


def hip_height(pose: Pose) -> float | None:
    """Height of the hips above the lowest ankle, pixels (drivers use it relative to standing)."""
    ankles = [p for p in (pose.point(Joint.LEFT_ANKLE), pose.point(Joint.RIGHT_ANKLE)) if p is not None]
    hip = pose.hip_mid
    if hip is None or not ankles:
        return None
    return float(max(a[1] for a in ankles) - hip[1])


def shoulder_height(pose: Pose) -> float | None:
    """Height of the shoulders above the wrists, pixels (a push-up seen head-on: chest to floor)."""
    wrists = pose.mid(Joint.LEFT_WRIST, Joint.RIGHT_WRIST)
    shoulders = pose.shoulder_mid
    if wrists is None or shoulders is None:
        return None
    return float(wrists[1] - shoulders[1])


def _width(pose: Pose, a: int, b: int) -> float | None:
    pa, pb = pose.point(a), pose.point(b)
    return None if pa is None or pb is None else abs(float(pa[0] - pb[0]))


def knee_width_ratio(pose: Pose) -> float | None:
    """Distance between the knees over distance between the ankles (< 1: knees caving in). Front view."""
    knees = _width(pose, Joint.LEFT_KNEE, Joint.RIGHT_KNEE)
    ankles = _width(pose, Joint.LEFT_ANKLE, Joint.RIGHT_ANKLE)
    hips = _width(pose, Joint.LEFT_HIP, Joint.RIGHT_HIP)
    if knees is None or ankles is None or not hips or ankles < 0.5 * hips:
        return None  # feet too close together for a stable ratio
    return knees / ankles


def leg_spread(pose: Pose) -> float | None:
    """Distance between the ankles in hip widths. Front view."""
    ankles = _width(pose, Joint.LEFT_ANKLE, Joint.RIGHT_ANKLE)
    hips = _width(pose, Joint.LEFT_HIP, Joint.RIGHT_HIP)
    if ankles is None or not hips:
        return None
    return ankles / hips


def ankle_lift(pose: Pose) -> float | None:
    """Height of the ankles in the image, pixels up (rules compare it with standing, per shin length)."""
    ankles = [p for p in (pose.point(Joint.LEFT_ANKLE), pose.point(Joint.RIGHT_ANKLE)) if p is not None]
    return -float(np.mean([a[1] for a in ankles])) if ankles else None


def shin_length(pose: Pose) -> float | None:
    """Knee-to-ankle length in pixels (a yardstick that stays put in a side view)."""
    return _bilateral(pose, ("knee", "ankle"),
                      lambda s: distance(pose.side_point("knee", s), pose.side_point("ankle", s)), "best")


def hip_sag(pose: Pose) -> float | None:
    """Hip offset from the shoulder-ankle line in body lengths: > 0 sagging, < 0 piked. Side view."""
    def side(s: Side) -> float | None:
        return offset_from_line(pose.side_point("hip", s), pose.side_point("shoulder", s),
                                pose.side_point("ankle", s))

    return _bilateral(pose, ("shoulder", "hip", "ankle"), side, "best")


def _knee_angle(pose: Pose, s: Side) -> float | None:
    return angle_at(pose.side_point("hip", s), pose.side_point("knee", s), pose.side_point("ankle", s))


def _lead_side(pose: Pose) -> Side | None:
    """The front leg of a split stance: the ankle further ahead in the facing direction (side view)."""
    f = facing(pose)
    ankles = {s: pose.side_point("ankle", s) for s in SIDES}
    if f is None or any(a is None for a in ankles.values()):
        return None  # with one foot hidden, which one is in front cannot be told
    ahead = {s: float(a[0]) * f for s, a in ankles.items()}  # type: ignore[index]
    return max(ahead, key=ahead.__getitem__)


def lead_knee_angle(pose: Pose) -> float | None:
    """Knee angle of the front leg (side view); the more bent knee when the front leg is unclear."""
    s = _lead_side(pose)
    if s is not None:
        return _knee_angle(pose, s)
    angles = [a for a in (_knee_angle(pose, "left"), _knee_angle(pose, "right")) if a is not None]
    return min(angles) if angles else None


def knee_forward(pose: Pose) -> float | None:
    """How far the front knee is ahead of its ankle, in shin lengths (the toes are ~0.5 ahead). Side view."""
    f, s = facing(pose), _lead_side(pose)
    if f is None or s is None:
        return None
    knee, ankle = pose.side_point("knee", s), pose.side_point("ankle", s)
    shin = distance(knee, ankle)
    if knee is None or ankle is None or not shin:
        return None
    return float(knee[0] - ankle[0]) * f / shin


def knee_inward(pose: Pose) -> float | None:
    """How far the front knee sits inside its foot, in hip widths (> 0: collapsing inwards). Front view.

    The front leg is the one whose knee stands high above its ankle (the back knee drops toward
    the floor). Measured against the ankle rather than the hip-ankle line: the front knee is far
    ahead of the hips, so against that line a camera turned a few degrees already looks like a
    collapse; against the ankle below it, it does not.
    """
    hips = _width(pose, Joint.LEFT_HIP, Joint.RIGHT_HIP)
    centre = pose.hip_mid
    legs = {}
    for s in SIDES:
        knee, ankle = pose.side_point("knee", s), pose.side_point("ankle", s)
        if knee is not None and ankle is not None:
            legs[s] = (knee, ankle)
    if not hips or centre is None or len(legs) < 2:
        return None  # with one leg hidden, which one is in front cannot be told
    lead = max(legs, key=lambda s: legs[s][1][1] - legs[s][0][1])
    knee, ankle = legs[lead]
    inward = 1.0 if centre[0] > ankle[0] else -1.0
    return float(knee[0] - ankle[0]) * inward / hips


def upper_arm_forward(pose: Pose) -> float | None:
    """Upper arm angle forward of hanging straight down, degrees (elbows drifting forward). Side view."""
    f = facing(pose)
    if f is None:
        return None

    def side(s: Side) -> float | None:
        shoulder, elbow = pose.side_point("shoulder", s), pose.side_point("elbow", s)
        tilt = signed_tilt(elbow, shoulder, -f)  # shoulder above elbow, leaning back = elbow forward
        return tilt

    return _bilateral(pose, ("shoulder", "elbow"), side, "best")


def _forearm_raise(combine: Combine, apart: float | None = None) -> Callable[[Pose], float | None]:
    """Wrist height above the elbow in upper-arm lengths: about -0.9 hanging, > 0 curled. Any view."""
    def fn(pose: Pose) -> float | None:
        def side(s: Side) -> float | None:
            shoulder, elbow, wrist = (pose.side_point(p, s) for p in ("shoulder", "elbow", "wrist"))
            upper = distance(shoulder, elbow)
            if elbow is None or wrist is None or not upper:
                return None
            return float(elbow[1] - wrist[1]) / upper

        return _bilateral(pose, ("shoulder", "elbow", "wrist"), side, combine, apart)

    return fn


def wrist_height(pose: Pose) -> float | None:
    """Wrist height above the shoulder in torso lengths: about 0.2 racked, 1.1 locked out. Any view."""
    def side(s: Side) -> float | None:
        shoulder, wrist, hip = (pose.side_point(p, s) for p in ("shoulder", "wrist", "hip"))
        torso = distance(shoulder, hip)
        if shoulder is None or wrist is None or not torso:
            return None
        return float(shoulder[1] - wrist[1]) / torso

    return _bilateral(pose, ("shoulder", "wrist", "hip"), side, "best")


def ear_shoulder_gap(pose: Pose) -> float | None:
    """Height of the ears above the shoulders in torso lengths (about 0.5 relaxed). It shrinks as the
    shoulders shrug up toward the ears and the torso lengthens, so a shrug moves it twice. Any view."""
    ears, shoulders = pose.mid(Joint.LEFT_EAR, Joint.RIGHT_EAR), pose.shoulder_mid
    torso = distance(shoulders, pose.hip_mid)
    if ears is None or shoulders is None or not torso:
        return None
    return float(shoulders[1] - ears[1]) / torso


def shoulder_over_hip(pose: Pose) -> float | None:
    """Height of the shoulders above the hips in shoulder widths: about 0 lying on the back, above 0.7
    sitting up, below 0 with the hips bridged up. Front view (from the feet when lying): the trunk's
    2D angle is foreshortened there, the shoulder width is not."""
    width = _width(pose, Joint.LEFT_SHOULDER, Joint.RIGHT_SHOULDER)
    shoulders, hips = pose.shoulder_mid, pose.hip_mid
    if not width or shoulders is None or hips is None:
        return None
    return float(hips[1] - shoulders[1]) / width


def _cross(a: np.ndarray, b: np.ndarray) -> float:
    return float(a[0] * b[1] - a[1] * b[0])


def neck_flexion(pose: Pose) -> float | None:
    """How far the head bends forward off the line of the trunk, degrees: about 0 with a neutral
    neck, 45 and more with the chin pulled to the chest. Side view. "Forward" is the nose's side of
    the trunk line, so it also holds lying on the back, where facing() cannot tell."""
    hips, shoulders = pose.hip_mid, pose.shoulder_mid
    ears, nose = pose.mid(Joint.LEFT_EAR, Joint.RIGHT_EAR), pose.point(Joint.NOSE)
    bend = angle_at(hips, shoulders, ears)
    if bend is None or hips is None or shoulders is None or ears is None or nose is None:
        return None
    trunk = shoulders - hips
    toward_face = _cross(trunk, ears - shoulders) * _cross(trunk, nose - shoulders) >= 0
    return (180.0 - bend) * (1.0 if toward_face else -1.0)


def nose_over_wrists(pose: Pose) -> float | None:
    """Height of the nose above the hands in torso lengths: above ~0.1 the chin clears a bar the
    hands hold (pull-up). Any view."""
    nose, wrists = pose.point(Joint.NOSE), pose.mid(Joint.LEFT_WRIST, Joint.RIGHT_WRIST)
    torso = distance(pose.shoulder_mid, pose.hip_mid)
    if nose is None or wrists is None or not torso:
        return None
    return float(wrists[1] - nose[1]) / torso


def shoulder_above_feet(pose: Pose) -> float | None:
    """Height of the shoulders above the lowest ankle, pixels (drivers use it relative to standing):
    a hip hinge lowers the shoulders far more than the hips. Any view."""
    ankles = [p for p in (pose.point(Joint.LEFT_ANKLE), pose.point(Joint.RIGHT_ANKLE)) if p is not None]
    shoulders = pose.shoulder_mid
    if shoulders is None or not ankles:
        return None
    return float(max(a[1] for a in ankles) - shoulders[1])


def hands_forward(pose: Pose) -> float | None:
    """How far the hands are ahead of the ankles in shin lengths: a bar held over the mid-foot is
    about 0.2-0.3, a bar drifting away from the legs more. Side view."""
    f = facing(pose)
    wrists = pose.mid(Joint.LEFT_WRIST, Joint.RIGHT_WRIST)
    ankles = pose.mid(Joint.LEFT_ANKLE, Joint.RIGHT_ANKLE)
    shin = shin_length(pose)
    if f is None or wrists is None or ankles is None or not shin:
        return None
    return float(wrists[0] - ankles[0]) * f / shin


def _hip_angle(pose: Pose, s: Side) -> float | None:
    return angle_at(pose.side_point("shoulder", s), pose.side_point("hip", s), pose.side_point("knee", s))


_PRONE_LEAN = 45.0  # trunk at least this far from vertical: a plank-like position


def knee_drive(pose: Pose) -> float | None:
    """Difference between the two hip angles in a plank-like position, degrees: 0 with both legs
    back, about 60 with one knee driven toward the chest, whichever leg it is. None with the
    trunk upright, where every walking step splits the legs as much. Side view."""
    lean = torso_lean(pose)
    left, right = _hip_angle(pose, "left"), _hip_angle(pose, "right")
    if lean is None or lean < _PRONE_LEAN or left is None or right is None:
        return None
    return abs(left - right)


def knee_height_split(pose: Pose) -> float | None:
    """Height difference between the knees in shoulder widths: about 0 with both legs back in a
    plank, about 0.6 with one knee driven under the chest. Front view, where the hip angles are
    foreshortened but the driven knee still drops toward the floor."""
    left, right = pose.point(Joint.LEFT_KNEE), pose.point(Joint.RIGHT_KNEE)
    width = _width(pose, Joint.LEFT_SHOULDER, Joint.RIGHT_SHOULDER)
    if left is None or right is None or not width:
        return None
    return abs(float(left[1] - right[1])) / width


_STRAIGHT_KNEE = 150.0  # a leg with a knee this straight is back on the floor, drawing the body line


def support_hip_sag(pose: Pose) -> float | None:
    """hip_sag along the leg that is back on the floor (the straighter knee): with one knee driven in,
    that leg's knee is bent, its ankle sits under the body and draws no body line. A pike bends the
    hips, not the knees, so it still reads. None when no straight leg is seen. Side view."""
    lines = {}
    for s in SIDES:
        knee = _knee_angle(pose, s)
        offset = offset_from_line(pose.side_point("hip", s), pose.side_point("shoulder", s),
                                  pose.side_point("ankle", s))
        if knee is not None and knee >= _STRAIGHT_KNEE and offset is not None:
            lines[s] = (knee, offset)
    if not lines:
        return None
    return max(lines.values())[1]


def elbow_height(pose: Pose) -> float | None:
    """Height of the elbows above the shoulders in torso lengths: about -0.55 with the arms hanging,
    0 at shoulder height, however bent the elbow. Any view."""
    def side(s: Side) -> float | None:
        shoulder, elbow, hip = (pose.side_point(p, s) for p in ("shoulder", "elbow", "hip"))
        torso = distance(shoulder, hip)
        if shoulder is None or elbow is None or not torso:
            return None
        return float(shoulder[1] - elbow[1]) / torso

    return _bilateral(pose, ("shoulder", "elbow", "hip"), side, "best")


_DEFS: tuple[Measure, ...] = (
    Measure("knee_angle", "deg", "knee angle", _joint_angle("hip", "knee", "ankle", "best")),
    Measure("lead_knee_angle", "deg", "front knee angle", lead_knee_angle),
    Measure("hip_angle", "deg", "hip angle", _joint_angle("shoulder", "hip", "knee", "best")),
    Measure("elbow_angle", "deg", "elbow angle", _joint_angle("shoulder", "elbow", "wrist", "best")),
    Measure("arm_spread", "deg", "arm angle from the body", _joint_angle("hip", "shoulder", "elbow", "best")),
    Measure("torso_lean", "deg", "forward lean of the torso", torso_lean),
    Measure("back_lean", "deg", "backward lean of the torso", back_lean),
    Measure("leg_incline", "deg", "leg angle from vertical", leg_incline),
    Measure("hip_below_knee", "thigh lengths", "hip height below the knee", hip_below_knee),
    Measure("hip_height", "px", "hip height", hip_height),
    Measure("shoulder_height", "px", "shoulder height above the hands", shoulder_height),
    Measure("knee_width_ratio", "ratio", "knee width over ankle width", knee_width_ratio),
    Measure("leg_spread", "hip widths", "foot spread", leg_spread),
    Measure("ankle_lift", "px", "ankle height", ankle_lift),
    Measure("shin_length", "px", "shin length", shin_length),
    Measure("hip_sag", "body lengths", "hip sag", hip_sag),
    Measure("knee_forward", "shin lengths", "knee travel past the ankle", knee_forward),
    Measure("knee_inward", "hip widths", "front knee drift inwards", knee_inward),
    Measure("upper_arm_forward", "deg", "elbow drift forward", upper_arm_forward),
    Measure("forearm_raise", "upper-arm lengths", "hand height above the elbow", _forearm_raise("best")),
    # A curl may work one arm at a time: while the arms differ by more than most of a curl's
    # thresholds' span, the working arm is the more bent one (the higher hand), whichever side;
    # the more confident side alone, from the side the near arm, misses every other rep. Said to
    # the person as plain "elbow angle": they know which arm they curled.
    Measure("bent_elbow_angle", "deg", "elbow angle", _joint_angle("shoulder", "elbow", "wrist", "min", apart=40.0)),
    Measure("raised_forearm", "upper-arm lengths", "hand height above the elbow",
            _forearm_raise("max", apart=0.5)),
    Measure("wrist_height", "torso lengths", "hand height above the shoulder", wrist_height),
    Measure("ear_shoulder_gap", "torso lengths", "ear height above the shoulders", ear_shoulder_gap),
    Measure("shoulder_over_hip", "shoulder widths", "shoulder height above the hips", shoulder_over_hip),
    Measure("neck_flexion", "deg", "head bent toward the chest", neck_flexion),
    Measure("nose_over_wrists", "torso lengths", "nose height above the hands", nose_over_wrists),
    Measure("shoulder_above_feet", "px", "shoulder height above the feet", shoulder_above_feet),
    Measure("hands_forward", "shin lengths", "hands ahead of the ankles", hands_forward),
    Measure("knee_drive", "deg", "knee drive (difference between the hip angles)", knee_drive),
    Measure("knee_height_split", "shoulder widths", "height difference between the knees", knee_height_split),
    Measure("support_hip_sag", "body lengths", "hip sag over the support leg", support_hip_sag),
    Measure("elbow_height", "torso lengths", "elbow height above the shoulder", elbow_height),
)

MEASURES: dict[str, Measure] = {m.name: m for m in _DEFS}


def measure_all(pose: Pose, names: list[str] | tuple[str, ...] | set[str]) -> dict[str, float | None]:
    """Evaluate these measures on one pose; values are plain floats (JSON-safe) or None."""
    out: dict[str, float | None] = {}
    for name in names:
        v = MEASURES[name](pose)
        out[name] = float(v) if v is not None and np.isfinite(v) else None
    return out
