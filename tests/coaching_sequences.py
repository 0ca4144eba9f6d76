"""Kinematic COCO-17 keypoint sequences for tests and benchmarks of the coaching logic.

A simple 3D body (segment lengths of an adult, metres) is posed per frame by one progress value
p in [0, 1] (0 = start position, 1 = turning point of the rep), then projected orthographically
onto a 640x480 image from the side (camera yaw +-90 degrees) or the front (yaw 0). Projection from
3D keeps side and front views of the same movement consistent, including the foreshortening
that makes 2D knee angles useless from the front. Faults are injected as pose parameters
(shallow depth, knees caving, sagging hips ...). Pixel jitter, dropped (NaN) joints and
low-confidence far-side joints imitate a real detector.

World axes: x = the person's left, y = up, z = the direction the person faces. Ground at y = 0.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from coaching.skeleton import Joint

FPS = 30.0
WIDTH, HEIGHT = 640, 480

# Segment lengths (m)
SHOULDER_HALF = 0.19
HIP_HALF = 0.12
TORSO = 0.52
UPPER_ARM = 0.30
FOREARM = 0.27
THIGH = 0.44
SHANK = 0.43
ANKLE_Y = 0.08
LEG = THIGH + SHANK

J = Joint
X, Y, Z = np.eye(3)


def _unit(v: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(v)
    return v / n if n > 1e-9 else v


def _rot_x(v: np.ndarray, deg: float) -> np.ndarray:
    """Rotate about the x axis (a sagittal-plane rotation: +deg tips 'up' toward 'forward')."""
    a = math.radians(deg)
    c, s = math.cos(a), math.sin(a)
    return np.array([v[0], c * v[1] - s * v[2], s * v[1] + c * v[2]])


def two_link(start: np.ndarray, end: np.ndarray, l1: float, l2: float, hint: np.ndarray) -> np.ndarray:
    """Middle joint of a two-segment limb from start to end, bending toward `hint` (analytic IK)."""
    d = end - start
    dist = float(np.linalg.norm(d))
    axis = _unit(d)
    if dist >= l1 + l2 - 1e-6:
        return start + axis * l1  # fully straight; the end is out of reach
    a = (l1 * l1 - l2 * l2 + dist * dist) / (2 * dist)
    h = math.sqrt(max(l1 * l1 - a * a, 0.0))
    perp = _unit(hint - np.dot(hint, axis) * axis)
    return start + axis * a + perp * h


@dataclass
class Body:
    """Joint positions in world metres, filled by the pose functions."""

    pts: np.ndarray = field(default_factory=lambda: np.zeros((17, 3)))

    def set(self, j: Joint, p: np.ndarray) -> None:
        self.pts[j] = p

    def trunk(self, hip_centre: np.ndarray, lean_deg: float, head_tilt: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
        """Hips, shoulders and head from the hip centre and a forward lean of the trunk (degrees)."""
        up = _rot_x(Y, lean_deg)
        fwd = _rot_x(Z, lean_deg)
        shoulder_c = hip_centre + up * TORSO
        self.set(J.LEFT_HIP, hip_centre + X * HIP_HALF)
        self.set(J.RIGHT_HIP, hip_centre - X * HIP_HALF)
        self.set(J.LEFT_SHOULDER, shoulder_c + X * SHOULDER_HALF)
        self.set(J.RIGHT_SHOULDER, shoulder_c - X * SHOULDER_HALF)
        hup, hfwd = _rot_x(up, head_tilt), _rot_x(fwd, head_tilt)
        nose = shoulder_c + hup * 0.24 + hfwd * 0.10
        self.set(J.NOSE, nose)
        self.set(J.LEFT_EYE, nose + hup * 0.035 + X * 0.032 - hfwd * 0.02)
        self.set(J.RIGHT_EYE, nose + hup * 0.035 - X * 0.032 - hfwd * 0.02)
        self.set(J.LEFT_EAR, nose + hup * 0.02 + X * 0.075 - hfwd * 0.10)
        self.set(J.RIGHT_EAR, nose + hup * 0.02 - X * 0.075 - hfwd * 0.10)
        return up, fwd

    def arm(self, side: float, shoulder: np.ndarray, elbow_dir: np.ndarray, forearm_dir: np.ndarray) -> None:
        left = side > 0
        elbow = shoulder + _unit(elbow_dir) * UPPER_ARM
        self.set(J.LEFT_ELBOW if left else J.RIGHT_ELBOW, elbow)
        self.set(J.LEFT_WRIST if left else J.RIGHT_WRIST, elbow + _unit(forearm_dir) * FOREARM)

    def leg(self, side: float, hip: np.ndarray, ankle: np.ndarray, knee_hint: np.ndarray,
            knee_shift: np.ndarray | None = None) -> None:
        left = side > 0
        knee = two_link(hip, ankle, THIGH, SHANK, knee_hint)
        if knee_shift is not None:
            knee = knee + knee_shift
        self.set(J.LEFT_KNEE if left else J.RIGHT_KNEE, knee)
        self.set(J.LEFT_ANKLE if left else J.RIGHT_ANKLE, ankle)

    def hand_at(self, side: float, hand: np.ndarray, elbow_hint: np.ndarray) -> None:
        """The wrist at `hand`, the elbow bent toward `elbow_hint` between it and the shoulder (the
        arm's twin of `leg`; the hand must be within reach)."""
        left = side > 0
        elbow = two_link(self.shoulder(side), hand, UPPER_ARM, FOREARM, elbow_hint)
        self.set(J.LEFT_ELBOW if left else J.RIGHT_ELBOW, elbow)
        self.set(J.LEFT_WRIST if left else J.RIGHT_WRIST, hand)

    def shoulder(self, side: float) -> np.ndarray:
        return self.pts[J.LEFT_SHOULDER if side > 0 else J.RIGHT_SHOULDER]

    def hip(self, side: float) -> np.ndarray:
        return self.pts[J.LEFT_HIP if side > 0 else J.RIGHT_HIP]


def _hanging_arms(b: Body, fwd_deg: float = 5.0) -> None:
    for s in (1.0, -1.0):
        d = _rot_x(-Y, -fwd_deg) + X * s * 0.12
        b.arm(s, b.shoulder(s), d, d)


# How people hold their arms through a squat or lunge besides the generator's own (forward for a
# squat, hanging for a lunge): a bar on the back or the front of the shoulders, hands on the hips
# or behind the head, arms crossed on the chest, a weight held at the chest, hanging. A pose
# function takes `hold`: 1 + an index here (0 or none: its own).
ARM_STYLES = ("bar_back", "front_rack", "hips", "behind_head", "crossed", "goblet", "hanging")


def _held_arms(b: Body, style: str, up: np.ndarray, fwd: np.ndarray) -> None:
    """Both arms in `style` (ARM_STYLES), the hands placed relative to the trunk (up, fwd) and the
    elbows bent toward where that hold puts them."""
    shoulder_c = (b.shoulder(1.0) + b.shoulder(-1.0)) / 2
    for s in (1.0, -1.0):
        side = X * s
        hand, hint = {
            "bar_back": (shoulder_c + up * 0.06 - fwd * 0.10 + side * 0.42, -up - fwd * 0.3),
            "front_rack": (shoulder_c + up * 0.02 + fwd * 0.14 + side * 0.17, fwd - up * 0.3 + side * 0.2),
            "hips": (b.hip(s) + side * 0.05, side - fwd * 0.3),
            "behind_head": (shoulder_c + up * 0.25 - fwd * 0.10 + side * 0.05, side + up * 0.4),
            "crossed": (b.shoulder(-s) - up * 0.06 + fwd * 0.10, -up + fwd * 0.5),
            "goblet": (shoulder_c - up * 0.18 + fwd * 0.22 + side * 0.04, -up + side * 0.3),
            "hanging": (b.shoulder(s) - Y * (UPPER_ARM + FOREARM) * 0.99 + side * 0.04, fwd),
        }[style]
        shoulder = b.shoulder(s)
        reach = hand - shoulder
        if np.linalg.norm(reach) > (UPPER_ARM + FOREARM) * 0.999:  # out of reach: the arm straight toward it
            hand = shoulder + _unit(reach) * (UPPER_ARM + FOREARM) * 0.999
        b.hand_at(s, hand, hint)


def _arm_style(f: dict[str, float]) -> str | None:
    k = int(f.get("hold", 0))
    return ARM_STYLES[k - 1] if k else None


# --- exercises: each maps progress p (0 start .. 1 turning point) and fault parameters to a Body ---

def squat(p: float, rep: int, f: dict[str, float]) -> Body:
    """Bodyweight squat, arms rising forward. depth: thigh angle from vertical at the bottom
    (90 = parallel); lean: trunk lean at the bottom; cave: knees moving inwards (m); heel: heel
    rise (m); hold: another way to hold the arms (ARM_STYLES)."""
    b = Body()
    depth, lean = f.get("depth", 100.0), f.get("lean", 35.0)
    heel, cave = f.get("heel", 0.0), f.get("cave", 0.0)
    shank_lean = 35.0 * p
    thigh_tilt = depth * p  # thigh angle from vertical, tilting back
    for s in (1.0, -1.0):
        ankle = np.array([s * 0.16, ANKLE_Y + heel * p, 0.0])
        knee = ankle + _rot_x(Y, shank_lean) * SHANK + X * s * (0.03 * p - cave * p)
        b.set(J.LEFT_KNEE if s > 0 else J.RIGHT_KNEE, knee)
        b.set(J.LEFT_ANKLE if s > 0 else J.RIGHT_ANKLE, ankle)
    knee_c = (b.pts[J.LEFT_KNEE] + b.pts[J.RIGHT_KNEE]) / 2
    knee_c[0] = 0.0
    hip_c = knee_c + _rot_x(Y, -thigh_tilt) * THIGH
    up, fwd = b.trunk(hip_c, lean * p)
    if style := _arm_style(f):
        _held_arms(b, style, up, fwd)
        return b
    for s in (1.0, -1.0):  # arms held forward for balance, more as the squat deepens
        d = _rot_x(-Y, -(20 + 60 * p) - lean * p)
        b.arm(s, b.shoulder(s), d, d)
    return b


def push_up(p: float, rep: int, f: dict[str, float]) -> Body:
    """Push-up on the toes. bottom: shoulder height above the floor at the bottom (m);
    sag: hips below the shoulder-ankle line (m, negative = piked)."""
    b = Body()
    bottom, sag = f.get("bottom", 0.30), f.get("sag", 0.0)
    top_h, ankle_c, length = 0.595, np.array([0.0, 0.10, 0.0]), LEG + TORSO
    elev = math.asin((top_h + (bottom - top_h) * p - ankle_c[1]) / length)
    axis = np.array([0.0, math.sin(elev), math.cos(elev)])  # feet to head
    down = np.array([0.0, -math.cos(elev), math.sin(elev)])  # toward the floor, across the body
    hip_c = ankle_c + axis * LEG + down * sag
    shoulder_c = ankle_c + axis * length
    nose = shoulder_c + axis * 0.24 + down * 0.05
    b.set(J.NOSE, nose)
    wrist_z = math.cos(math.asin((top_h - ankle_c[1]) / length)) * length
    for s, (eye, ear) in ((1.0, (J.LEFT_EYE, J.LEFT_EAR)), (-1.0, (J.RIGHT_EYE, J.RIGHT_EAR))):
        b.set(eye, nose - down * 0.035 + X * s * 0.032 - axis * 0.02)
        b.set(ear, nose - down * 0.02 + X * s * 0.075 - axis * 0.10)
        b.set(J.LEFT_HIP if s > 0 else J.RIGHT_HIP, hip_c + X * s * HIP_HALF)
        shoulder = shoulder_c + X * s * SHOULDER_HALF
        b.set(J.LEFT_SHOULDER if s > 0 else J.RIGHT_SHOULDER, shoulder)
        b.leg(s, b.hip(s), ankle_c + X * s * 0.10, -down)
        b.hand_at(s, np.array([s * 0.24, 0.03, wrist_z]), -Z + Y * 0.3 + X * s * 0.6)
    return b


def plank(p: float, rep: int, f: dict[str, float]) -> Body:
    """High plank held still (p only adds a little sway). sag as for push_up."""
    return push_up(0.05 * p, rep, {"sag": f.get("sag", 0.0)})


def lunge(p: float, rep: int, f: dict[str, float]) -> Body:
    """Forward lunge, lead leg alternating each rep. forward: extra hip travel forward at the
    bottom (m; knee past the toes); cave: front knee inwards (m); lean: trunk lean (deg); hold:
    the arms held otherwise than hanging (ARM_STYLES)."""
    b = Body()
    lead = 1.0 if rep % 2 == 0 else -1.0
    forward, cave, lean = f.get("forward", 0.0), f.get("cave", 0.0), f.get("lean", 5.0)
    step = min(1.0, p / 0.35)
    front_ankle = np.array([lead * 0.13, ANKLE_Y + 0.08 * math.sin(math.pi * step) * (p < 0.35), 0.8 * step])
    back_ankle = np.array([-lead * 0.13, ANKLE_Y + 0.08 * step, -0.15 * step])
    hip_y = (ANKLE_Y + LEG) + (0.56 - (ANKLE_Y + LEG)) * p
    hip_c = np.array([0.0, hip_y, (0.35 + forward) * step])
    up, fwd = b.trunk(hip_c, lean * p)
    b.leg(lead, b.hip(lead), front_ankle, Z + Y * 0.2, X * -lead * cave * p)
    b.leg(-lead, b.hip(-lead), back_ankle, Z - Y * 0.5)
    if style := _arm_style(f):
        _held_arms(b, style, up, fwd)
    else:
        _hanging_arms(b)
    return b


def bicep_curl(p: float, rep: int, f: dict[str, float]) -> Body:
    """Standing dumbbell curl, both arms. top: elbow angle at the top (deg); drift: upper arm
    swinging forward at the top (deg); alternate: 1 curls one arm per rep (left first), the other
    hanging."""
    b = Body()
    top, drift = f.get("top", 40.0), f.get("drift", 5.0)
    working = (1.0 if rep % 2 == 0 else -1.0) if f.get("alternate") else None
    b.trunk(np.array([0.0, ANKLE_Y + LEG, 0.0]), 0.0)
    for s in (1.0, -1.0):
        q = p if working in (None, s) else 0.0
        elbow_angle = 170.0 + (top - 170.0) * q
        b.leg(s, b.hip(s), np.array([s * 0.14, ANKLE_Y, 0.0]), Z)
        upper = _rot_x(-Y, -drift * q) + X * s * 0.05
        fore = _rot_x(-Y, -(drift * q + 180.0 - elbow_angle)) + X * s * 0.05
        b.arm(s, b.shoulder(s), upper, fore)
    return b


def shoulder_press(p: float, rep: int, f: dict[str, float]) -> Body:
    """Standing dumbbell press from the rack (p=0) to lockout (p=1). lockout: elbow angle at the
    top (deg); arch: backward trunk lean at the top (deg)."""
    b = Body()
    lockout, arch = f.get("lockout", 175.0), f.get("arch", 2.0)
    b.trunk(np.array([0.0, ANKLE_Y + LEG, 0.0]), -arch * p)
    abduction = 85.0 + (168.0 - 85.0) * p
    elbow = 85.0 + (lockout - 85.0) * p
    for s in (1.0, -1.0):
        b.leg(s, b.hip(s), np.array([s * 0.15, ANKLE_Y, 0.0]), Z)

        def arm_dir(angle_from_down: float) -> np.ndarray:
            a = math.radians(angle_from_down)
            out = X * s * math.sin(a) - Y * math.cos(a)
            return _rot_x(out, -arch * p) + Z * 0.25 * math.sin(a)

        b.arm(s, b.shoulder(s), arm_dir(abduction), arm_dir(abduction + 180.0 - elbow))
    return b


def jumping_jack(p: float, rep: int, f: dict[str, float]) -> Body:
    """Jumping jack: arms from the sides to overhead, feet from together to wide.
    arms: arm angle from the body at the top (deg); feet: ankle half-spread at the top (m)."""
    b = Body()
    arms, feet = f.get("arms", 165.0), f.get("feet", 0.42)
    half = 0.10 + (feet - 0.10) * p
    hop = 0.06 * math.sin(math.pi * p)
    hip_y = ANKLE_Y + math.sqrt(LEG ** 2 - (half - HIP_HALF) ** 2) + hop
    b.trunk(np.array([0.0, hip_y, 0.0]), 0.0)
    angle = 12.0 + (arms - 12.0) * p
    for s in (1.0, -1.0):
        b.leg(s, b.hip(s), np.array([s * half, ANKLE_Y + hop, 0.0]), Z)
        a = math.radians(angle)
        d = X * s * math.sin(a) - Y * math.cos(a)
        b.arm(s, b.shoulder(s), d, d)
    return b


def front_raise(p: float, rep: int, f: dict[str, float]) -> Body:
    """Dumbbell front raise, straight arms forward to shoulder height. top: arm angle from hanging at
    the top (deg, 90 = shoulder height); swing: backward trunk lean at the top (deg)."""
    b = Body()
    top, swing = f.get("top", 90.0), f.get("swing", 0.0)
    b.trunk(np.array([0.0, ANKLE_Y + LEG, 0.0]), -swing * p)
    angle = 8.0 + (top - 8.0) * p
    for s in (1.0, -1.0):
        b.leg(s, b.hip(s), np.array([s * 0.14, ANKLE_Y, 0.0]), Z)
        d = _rot_x(-Y, -angle) + X * s * 0.06
        b.arm(s, b.shoulder(s), d, _rot_x(d, -8.0))
    return b


def lateral_raise(p: float, rep: int, f: dict[str, float]) -> Body:
    """Dumbbell lateral raise, arms out to the sides. top: arm angle from the body at the top (deg,
    90 = shoulder height); shrug: shoulders rising toward the ears at the top (m)."""
    b = Body()
    top, shrug = f.get("top", 88.0), f.get("shrug", 0.0)
    b.trunk(np.array([0.0, ANKLE_Y + LEG, 0.0]), 0.0)
    angle = math.radians(10.0 + (top - 10.0) * p)
    for s in (1.0, -1.0):
        b.leg(s, b.hip(s), np.array([s * 0.14, ANKLE_Y, 0.0]), Z)
        shoulder = b.shoulder(s) + Y * shrug * p
        b.set(J.LEFT_SHOULDER if s > 0 else J.RIGHT_SHOULDER, shoulder)
        d = X * s * math.sin(angle) - Y * math.cos(angle) + Z * 0.15 * math.sin(angle)
        b.arm(s, shoulder, d, d - Y * 0.15)  # elbows slightly bent, hands just below them
    return b


def shoulder_shrug(p: float, rep: int, f: dict[str, float]) -> Body:
    """Dumbbell shrug: shoulders straight up toward the ears. lift: shoulder rise at the top (m);
    bend: elbow bend at the top (deg; pulling with the arms)."""
    b = Body()
    lift, bend = f.get("lift", 0.08), f.get("bend", 0.0)
    b.trunk(np.array([0.0, ANKLE_Y + LEG, 0.0]), 0.0)
    for s in (1.0, -1.0):
        b.leg(s, b.hip(s), np.array([s * 0.14, ANKLE_Y, 0.0]), Z)
        shoulder = b.shoulder(s) + Y * lift * p
        b.set(J.LEFT_SHOULDER if s > 0 else J.RIGHT_SHOULDER, shoulder)
        upper = _rot_x(-Y, -5.0) + X * s * 0.08
        b.arm(s, shoulder, upper, _rot_x(-Y, -(5.0 + bend * p)) + X * s * 0.08)
    return b


def sit_up(p: float, rep: int, f: dict[str, float]) -> Body:
    """Sit-up from lying on the back, knees bent, feet flat. top: trunk angle above the floor at the
    top (deg); feet: feet lifting off the floor at the top (m); neck: head bent toward the chest at
    the top (deg)."""
    b = Body()
    top, feet, neck = f.get("top", 65.0), f.get("feet", 0.0), f.get("neck", 12.0)
    rise = 4.0 + (top - 4.0) * p  # trunk angle above the floor, head toward -z
    _, fwd = b.trunk(np.array([0.0, 0.10, 0.0]), -(90.0 - rise), head_tilt=neck * p)
    up = _rot_x(Y, -(90.0 - rise))
    for s in (1.0, -1.0):
        b.leg(s, b.hip(s), np.array([s * 0.13, ANKLE_Y + feet * p, 0.50]), Y)
        b.arm(s, b.shoulder(s), -up + fwd * 0.5 - X * s * 0.3, -X * s + fwd * 0.2)  # arms crossed on the chest
    return b


PULL_UP_BAR = 2.05  # bar height (m): the feet hang clear of the floor
_GRIP_HALF = 0.33  # hands this far either side of the centre: a grip a little wider than the shoulders


def pull_up(p: float, rep: int, f: dict[str, float]) -> Body:
    """Pull-up from a hang. top: shoulders below the bar at the top (m; the chin clears the bar with
    the shoulders less than ~0.2 below it); bottom: elbow angle in the hang (deg); kip: legs swung
    forward at the top (deg)."""
    b = Body()
    top, bottom, kip = f.get("top", 0.10), f.get("bottom", 172.0), f.get("kip", 0.0)
    reach = math.sqrt(UPPER_ARM ** 2 + FOREARM ** 2 - 2 * UPPER_ARM * FOREARM * math.cos(math.radians(bottom)))
    hang = math.sqrt(reach ** 2 - (_GRIP_HALF - SHOULDER_HALF) ** 2)  # shoulders below the bar in the hang
    shoulder_y = PULL_UP_BAR - (hang + (top - hang) * p)
    lean = -8.0 * p  # the chest comes up to the bar, the trunk leaning back a little
    b.trunk(np.array([0.0, shoulder_y, 0.0]) - _rot_x(Y, lean) * TORSO, lean)
    for s in (1.0, -1.0):
        b.hand_at(s, np.array([s * _GRIP_HALF, PULL_UP_BAR, 0.02]), X * s + Z * 0.3 - Y * 0.2)
        leg = _rot_x(np.array([-s * 0.02, -0.80, -0.25]), -kip * p)  # knees a little bent
        b.leg(s, b.hip(s), b.hip(s) + leg, Z)
    return b


def glute_bridge(p: float, rep: int, f: dict[str, float]) -> Body:
    """Glute bridge from lying on the back, knees bent, feet flat. lift: trunk angle above the floor
    at the top (deg; 26 puts shoulders, hips and knees in one line); cave: knees moving inwards at
    the top (m)."""
    b = Body()
    lift, cave = f.get("lift", 26.0), f.get("cave", 0.0)
    e = math.radians(lift * p)
    shoulder_c = np.array([0.0, 0.10, 0.0])
    hip_c = shoulder_c + np.array([0.0, math.sin(e), math.cos(e)]) * TORSO
    b.trunk(hip_c, math.degrees(math.atan2(-math.cos(e), -math.sin(e))))  # trunk "up" toward the shoulders
    for s in (1.0, -1.0):
        b.leg(s, b.hip(s), np.array([s * 0.14, ANKLE_Y, 0.95]), Y + Z * 0.3, X * -s * cave * p)
        b.arm(s, b.shoulder(s), Z - Y * 0.3 + X * s * 0.25, Z - Y * 0.1)  # arms along the floor
    return b


def mountain_climber(p: float, rep: int, f: dict[str, float]) -> Body:
    """Mountain climber from a high plank, driving one knee toward the chest per rep, legs alternating.
    drive: thigh angle forward from the line of the body at the top (deg; hip angle = 180 - drive);
    pike: extra hip rise at the top (m)."""
    b = Body()
    lead = 1.0 if rep % 2 == 0 else -1.0
    drive, pike = f.get("drive", 62.0), f.get("pike", 0.0)
    top_h, ankle_c, length = 0.595, np.array([0.0, 0.10, 0.0]), LEG + TORSO
    elev = math.asin((top_h - ankle_c[1]) / length)
    axis = np.array([0.0, math.sin(elev), math.cos(elev)])  # feet to head
    down = np.array([0.0, -math.cos(elev), math.sin(elev)])  # toward the floor, across the body
    hip_c = ankle_c + axis * LEG - down * (0.05 + pike) * p  # the hips rise a little as the knee comes in
    shoulder_c = ankle_c + axis * length
    for s in (1.0, -1.0):
        b.set(J.LEFT_HIP if s > 0 else J.RIGHT_HIP, hip_c + X * s * HIP_HALF)
        shoulder = shoulder_c + X * s * SHOULDER_HALF
        b.set(J.LEFT_SHOULDER if s > 0 else J.RIGHT_SHOULDER, shoulder)
        wrist = shoulder - Y * (top_h - 0.03) + X * s * 0.05
        b.arm(s, shoulder, wrist - shoulder, wrist - shoulder)
        if s == lead:
            a = math.radians(drive * p)  # thigh and shin angles from the line of the body, toward the floor
            thigh = -axis * math.cos(a) + down * math.sin(a)
            knee = b.hip(s) + thigh * THIGH
            fold = -0.6 * a  # the shin folds back up behind the knee (knee angle 180 - 1.6 drive)
            shin = -axis * math.cos(fold) + down * math.sin(fold)
            b.set(J.LEFT_KNEE if s > 0 else J.RIGHT_KNEE, knee)
            b.set(J.LEFT_ANKLE if s > 0 else J.RIGHT_ANKLE, knee + shin * SHANK)
        else:
            b.leg(s, b.hip(s), ankle_c + X * s * 0.10, -down)
    nose = shoulder_c + axis * 0.24 + down * 0.05
    b.set(J.NOSE, nose)
    for s, (eye, ear) in ((1.0, (J.LEFT_EYE, J.LEFT_EAR)), (-1.0, (J.RIGHT_EYE, J.RIGHT_EAR))):
        b.set(eye, nose - down * 0.035 + X * s * 0.032 - axis * 0.02)
        b.set(ear, nose - down * 0.02 + X * s * 0.075 - axis * 0.10)
    return b


def deadlift(p: float, rep: int, f: dict[str, float]) -> Body:
    """Deadlift from standing (p=0) down to the bar just below the knees (p=1) and back.
    depth: thigh angle from vertical at the bottom (deg); lockout: hip angle standing at the top
    (deg); drift: hands (bar) forward of the shins at the bottom (m)."""
    b = Body()
    depth, lockout, drift = f.get("depth", 60.0), f.get("lockout", 178.0), f.get("drift", 0.0)
    bend = 180.0 - lockout  # hip flexion left at the top, shared by thighs and trunk so the
    thigh_top = bend * TORSO / (TORSO + THIGH)  # shoulders stay balanced over the feet
    shin_tilt, thigh_tilt = 10.0 * p, thigh_top + (depth - thigh_top) * p
    for s in (1.0, -1.0):
        ankle = np.array([s * 0.15, ANKLE_Y, 0.0])
        b.set(J.LEFT_ANKLE if s > 0 else J.RIGHT_ANKLE, ankle)
        b.set(J.LEFT_KNEE if s > 0 else J.RIGHT_KNEE, ankle + _rot_x(Y, shin_tilt) * SHANK + X * s * 0.02 * p)
    knee_c = (b.pts[J.LEFT_KNEE] + b.pts[J.RIGHT_KNEE]) / 2
    knee_c[0] = 0.0
    hip_c = knee_c + _rot_x(Y, -thigh_tilt) * THIGH
    # The trunk leans until the shoulders are over the bar, which passes just in front of the knees.
    bottom_knee_z = math.sin(math.radians(10.0)) * SHANK
    bottom_hip_z = bottom_knee_z - math.sin(math.radians(depth)) * THIGH
    bottom_lean = math.degrees(math.asin((bottom_knee_z + 0.045 - bottom_hip_z) / TORSO))
    top_lean = bend - thigh_top
    b.trunk(hip_c, top_lean + (bottom_lean - top_lean) * p)
    for s in (1.0, -1.0):
        hand = b.shoulder(s) - Y * (UPPER_ARM + FOREARM) * 0.98 + Z * drift * p - X * s * 0.02
        b.arm(s, b.shoulder(s), hand - b.shoulder(s), hand - b.shoulder(s))
    return b


def standing(p: float, rep: int, f: dict[str, float]) -> Body:
    """Standing still, arms hanging."""
    b = Body()
    b.trunk(np.array([0.0, ANKLE_Y + LEG, 0.0]), 0.0)
    for s in (1.0, -1.0):
        b.leg(s, b.hip(s), np.array([s * 0.14, ANKLE_Y, 0.0]), Z)
    _hanging_arms(b)
    return b


# --- movements the coach does not know (the model's "other"), shaped like ones it does ---

BENCH_HEIGHT = 0.45  # the bench top (m): the back lies on it, the feet flat on the floor


def bench_press(p: float, rep: int, f: dict[str, float]) -> Body:
    """Barbell bench press, lying on the back on a bench: the bar from arms straight above the
    shoulders (p=0) down to the chest (p=1). Lying like a sit-up, pressing like a push-up upside
    down; the real development set has it as a negative (docs/REAL_PEOPLE.md)."""
    b = Body()
    _, fwd = b.trunk(np.array([0.0, BENCH_HEIGHT + 0.05, 0.0]), -88.0)  # head toward -z, chest up
    for s in (1.0, -1.0):
        b.leg(s, b.hip(s), np.array([s * 0.26, ANKLE_Y, 0.42]), Y)
        shoulder, side = b.shoulder(s), X * s
        top = shoulder + fwd * (UPPER_ARM + FOREARM) * 0.97 + side * 0.06
        chest = shoulder + fwd * 0.10 + side * 0.20 + Z * 0.06
        b.hand_at(s, top + (chest - top) * p, side - fwd * 0.6)
    return b


def triceps_pushdown(p: float, rep: int, f: dict[str, float]) -> Body:
    """Cable (rope) triceps push-down, standing, leaning a little forward, the upper arms still at the
    sides: the forearms from above level (elbows bent to ~70 degrees, p=0) down until the arms are
    straight (p=1), the rope's ends parting. From the side, a curl played backwards."""
    b = Body()
    b.trunk(np.array([0.0, ANKLE_Y + LEG, 0.0]), 12.0)
    elbow_angle = 70.0 + (170.0 - 70.0) * p
    for s in (1.0, -1.0):
        b.leg(s, b.hip(s), np.array([s * 0.16, ANKLE_Y, 0.0]), Z)
        upper = _rot_x(-Y, -4.0) + X * s * 0.06
        fore = _rot_x(-Y, -(4.0 + 180.0 - elbow_angle)) + X * s * 0.25 * p
        b.arm(s, b.shoulder(s), upper, fore)
    return b


def bent_over_row(p: float, rep: int, f: dict[str, float]) -> Body:
    """Barbell bent-over row: hinged at the hips (trunk 50 degrees forward), knees a little bent, the
    bar pulled from hanging arms (p=0) to the lower ribs (p=1). Hinged like a deadlift that stays down."""
    b = Body()
    lean = 50.0
    for s in (1.0, -1.0):
        ankle = np.array([s * 0.15, ANKLE_Y, 0.0])
        b.set(J.LEFT_ANKLE if s > 0 else J.RIGHT_ANKLE, ankle)
        b.set(J.LEFT_KNEE if s > 0 else J.RIGHT_KNEE, ankle + _rot_x(Y, 15.0) * SHANK)
    knee_c = (b.pts[J.LEFT_KNEE] + b.pts[J.RIGHT_KNEE]) / 2
    knee_c[0] = 0.0
    up, fwd = b.trunk(knee_c + _rot_x(Y, -25.0) * THIGH, lean)
    for s in (1.0, -1.0):
        shoulder = b.shoulder(s)
        hanging = shoulder - Y * (UPPER_ARM + FOREARM) * 0.97 + X * s * 0.04
        ribs = shoulder - up * 0.30 - fwd * 0.20 + X * s * 0.05
        b.hand_at(s, hanging + (ribs - hanging) * p, up + X * s * 0.3)
    return b


# Movements the coach does not know, for the checks that nothing is named for them (the benchmark's
# generated section, tests). Not trained on: as "other" they did not help (docs/REAL_PEOPLE.md).
OTHER_MOVES = ("bench_press", "triceps_pushdown", "bent_over_row")


POSES: dict[str, Callable[[float, int, dict[str, float]], Body]] = {
    "squat": squat, "push_up": push_up, "plank": plank, "lunge": lunge, "bicep_curl": bicep_curl,
    "shoulder_press": shoulder_press, "jumping_jack": jumping_jack, "front_raise": front_raise,
    "lateral_raise": lateral_raise, "shoulder_shrug": shoulder_shrug, "sit_up": sit_up, "pull_up": pull_up,
    "glute_bridge": glute_bridge, "mountain_climber": mountain_climber, "deadlift": deadlift,
    "standing": standing, "bench_press": bench_press, "triceps_pushdown": triceps_pushdown,
    "bent_over_row": bent_over_row,
}

# Seconds: away (start -> turning point), pause at the turning point, back, pause at the start.
DEFAULT_TEMPO: dict[str, tuple[float, float, float, float]] = {
    "squat": (1.2, 0.3, 1.0, 0.6), "push_up": (1.0, 0.2, 0.8, 0.5), "lunge": (1.2, 0.3, 1.0, 0.7),
    "bicep_curl": (1.0, 0.3, 1.2, 0.5), "shoulder_press": (1.0, 0.3, 1.2, 0.5),
    "jumping_jack": (0.35, 0.05, 0.35, 0.1), "plank": (1.0, 0.0, 1.0, 0.0), "standing": (1.0, 0.0, 1.0, 0.0),
    "front_raise": (1.0, 0.2, 1.2, 0.5), "lateral_raise": (1.0, 0.2, 1.2, 0.5), "shoulder_shrug": (0.6, 0.4, 0.6, 0.5),
    "sit_up": (1.0, 0.2, 1.2, 0.5), "pull_up": (1.2, 0.3, 1.2, 0.8), "glute_bridge": (0.8, 0.8, 1.0, 0.6),
    "mountain_climber": (0.35, 0.05, 0.35, 0.15), "deadlift": (1.4, 0.2, 1.2, 0.8),
    "bench_press": (1.0, 0.2, 0.9, 0.4), "triceps_pushdown": (0.8, 0.2, 0.9, 0.4),
    "bent_over_row": (0.8, 0.3, 1.0, 0.4),
}
# Camera framing (pixels per metre, body centre along z) where the default (195, 0) does not fit:
# lying bodies are long and low, a pull-up hangs high.
FRAMING: dict[str, tuple[float, float]] = {
    "push_up": (300.0, 0.75), "plank": (300.0, 0.75), "lunge": (195.0, 0.35), "sit_up": (300.0, -0.15),
    "glute_bridge": (300.0, 0.35), "mountain_climber": (300.0, 0.75), "pull_up": (170.0, 0.0),
    "bench_press": (300.0, -0.15),
}
VIEW_YAW = {"side": -90.0, "side_left": 90.0, "front": 0.0}


@dataclass
class Sequence:
    """frames: (T, 17, 3) x, y pixels and confidence; times: (T,) seconds; progress: (T,) p per frame."""

    exercise: str
    view: str
    frames: np.ndarray
    times: np.ndarray
    reps: int
    width: int = WIDTH
    height: int = HEIGHT
    faults: dict[str, float] = field(default_factory=dict)
    progress: np.ndarray | None = None

    def __iter__(self):
        return iter(zip(self.frames, self.times))

    def __len__(self) -> int:
        return len(self.times)


def _ease(x: float) -> float:
    return 0.5 - 0.5 * math.cos(math.pi * min(max(x, 0.0), 1.0))


def progress_track(reps: int, tempo: tuple[float, float, float, float], lead_in_s: float, tail_s: float,
                   fps: float, rng: np.random.Generator, tempo_jitter: float = 0.0
                   ) -> tuple[np.ndarray, np.ndarray]:
    """p(t) and rep index per frame for `reps` cycles, with still lead-in and tail."""
    segments: list[tuple[float, float, float, int]] = [(lead_in_s, 0.0, 0.0, 0)]
    for r in range(reps):
        away, pause, back, rest = (max(0.05, x * (1 + tempo_jitter * rng.uniform(-1, 1))) for x in tempo)
        segments += [(away, 0.0, 1.0, r), (pause, 1.0, 1.0, r), (back, 1.0, 0.0, r), (rest, 0.0, 0.0, r)]
    segments.append((tail_s, 0.0, 0.0, max(reps - 1, 0)))
    total = sum(s[0] for s in segments)
    times = np.arange(0.0, total, 1.0 / fps)
    ps, idx = np.zeros(len(times)), np.zeros(len(times), dtype=int)
    starts = np.cumsum([0.0] + [s[0] for s in segments])
    k = 0
    for i, t in enumerate(times):
        while k < len(segments) - 1 and t >= starts[k + 1]:
            k += 1
        dur, p0, p1, r = segments[k]
        x = (t - starts[k]) / dur if dur > 0 else 1.0
        ps[i] = p0 + (p1 - p0) * _ease(x)
        idx[i] = r
    return ps, idx


def project(world: np.ndarray, yaw_deg: float, scale: float, width: int = WIDTH, height: int = HEIGHT,
            centre_z: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Orthographic camera circling the person by yaw (0 = in front): (17, 2) pixels and depth toward it."""
    a = math.radians(yaw_deg)
    right = np.array([math.cos(a), 0.0, -math.sin(a)])
    toward = np.array([math.sin(a), 0.0, math.cos(a)])
    shifted = world - np.array([0.0, 0.0, centre_z])
    u = width / 2 + scale * (shifted @ right)
    v = height * 0.95 - scale * shifted[:, 1]
    return np.stack([u, v], axis=1), shifted @ toward


def generate(exercise: str, reps: int = 5, view: str = "side", *, faults: dict[str, float] | None = None,
             tempo: tuple[float, float, float, float] | None = None, tempo_jitter: float = 0.1,
             noise_px: float = 2.0, drop_prob: float = 0.02, lead_in_s: float = 1.5, tail_s: float = 1.5,
             yaw: float | None = None, fps: float = FPS, seed: int = 0, scale: float | None = None,
             t0: float = 0.0) -> Sequence:
    """A sequence of `reps` repetitions of `exercise` seen from `view` ("side", "side_left", "front").

    noise_px: uniform jitter of every coordinate, +- pixels. drop_prob: chance per joint and
    frame that the detector loses it (NaN, confidence 0).
    """
    rng = np.random.default_rng(seed)
    faults = dict(faults or {})
    pose = POSES[exercise]
    ps, idx = progress_track(reps, tempo or DEFAULT_TEMPO[exercise], lead_in_s, tail_s, fps, rng, tempo_jitter)
    yaw_deg = VIEW_YAW[view] if yaw is None else yaw
    default_scale, centre_z = FRAMING.get(exercise, (195.0, 0.0))
    scale = scale or default_scale
    worlds = [pose(float(p), int(r), faults).pts for p, r in zip(ps, idx)]
    frames = render(worlds, yaw_deg, scale, centre_z, rng, noise_px, drop_prob)
    return Sequence(exercise, view, frames, np.arange(len(ps)) / fps + t0, reps, faults=faults, progress=ps)


def render(worlds: list[np.ndarray], yaw_deg: float, scale: float, centre_z: float, rng: np.random.Generator,
           noise_px: float, drop_prob: float) -> np.ndarray:
    """Project world poses to (T, 17, 3) detector output: jitter, dropped joints, a dimmer far side."""
    frames = np.zeros((len(worlds), 17, 3))
    for i, world in enumerate(worlds):
        xy, depth = project(world, yaw_deg, scale, centre_z=centre_z)
        conf = np.full(17, 0.9)
        if abs(math.sin(math.radians(yaw_deg))) > 0.7:  # profile: the far side is half hidden
            conf[depth < np.median(depth) - 0.05] = 0.55
        conf += rng.uniform(-0.05, 0.05, 17)
        xy = xy + rng.uniform(-noise_px, noise_px, xy.shape)
        dropped = rng.random(17) < drop_prob
        xy[dropped] = np.nan
        conf[dropped] = 0.0
        frames[i, :, :2] = xy
        frames[i, :, 2] = conf
    return frames


def walk(seconds: float = 8.0, view: str = "side", *, stride_s: float = 0.55, noise_px: float = 2.0,
         drop_prob: float = 0.02, yaw: float | None = None, seed: int = 0, scale: float = 195.0,
         fps: float = FPS) -> Sequence:
    """Walking back and forth across the view (turning at the ends): moving, but no exercise."""
    rng = np.random.default_rng(seed)
    times = np.arange(0.0, seconds, 1.0 / fps)
    travel = 1.2  # metres either side of the centre
    worlds = []
    for t in times:
        z = travel * math.sin(2 * math.pi * t / 8.0)
        heading = 1.0 if math.cos(2 * math.pi * t / 8.0) >= 0 else -1.0
        phase = 2 * math.pi * t / (2 * stride_s)
        b = Body()
        b.trunk(np.array([0.0, ANKLE_Y + LEG - 0.02 * abs(math.sin(phase)), 0.0]), 4.0)
        for s in (1.0, -1.0):
            swing = s * math.sin(phase)
            hip = b.hip(s)
            thigh = _rot_x(-Y, -25.0 * swing)
            knee = hip + thigh * THIGH
            shank = _rot_x(-Y, -25.0 * swing + 35.0 * max(0.0, -math.cos(phase) * s))
            ankle = knee + shank * SHANK
            b.set(J.LEFT_KNEE if s > 0 else J.RIGHT_KNEE, knee)
            b.set(J.LEFT_ANKLE if s > 0 else J.RIGHT_ANKLE, ankle)
            arm = _rot_x(-Y, 20.0 * swing) + X * s * 0.08
            b.arm(s, b.shoulder(s), arm, _rot_x(arm, -15.0))
        pts = b.pts.copy()
        pts[:, 2] *= heading  # turned around: mirror the body front to back
        pts[:, 0] *= heading
        pts[:, 2] += z
        worlds.append(pts)
    frames = render(worlds, VIEW_YAW[view] if yaw is None else yaw, scale, 0.0, rng, noise_px, drop_prob)
    return Sequence("walk", view, frames, times, 0, progress=np.zeros(len(times)))


def still(seconds: float = 6.0, view: str = "front", **kwargs: object) -> Sequence:
    """Standing still (with jitter) for `seconds`."""
    return generate("standing", reps=0, view=view, lead_in_s=seconds, tail_s=0.0, **kwargs)  # type: ignore[arg-type]


def concat(*seqs: Sequence) -> Sequence:
    """Play sequences one after another on one clock."""
    frames, times, t = [], [], 0.0
    for s in seqs:
        frames.append(s.frames)
        times.append(s.times - s.times[0] + t)
        t = times[-1][-1] + 1.0 / FPS
    return Sequence("+".join(s.exercise for s in seqs), "+".join(s.view for s in seqs),
                    np.concatenate(frames), np.concatenate(times), sum(s.reps for s in seqs),
                    progress=np.concatenate([s.progress if s.progress is not None else np.zeros(len(s)) for s in seqs]))
