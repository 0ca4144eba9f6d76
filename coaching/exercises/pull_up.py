"""Pull-up or chin-up from a hang on a bar."""

from coaching.spec import DepthMeasure, ExerciseSpec, FaultRule, PhaseDriver, PhaseNames

SPEC = ExerciseSpec(
    name="pull_up",
    title="Pull-up",
    drivers=(
        # The hands' height over the shoulders, in any view and with any grip: about 1 in the hang,
        # 0.2 with the chin over the bar. The elbow angle would depend on the grip and the view.
        # The turn comes a little before the chin reaches the bar, so a rep that stops short still
        # counts and hears why it was short.
        PhaseDriver(measure="wrist_height", rest=0.85, turn=0.6, hysteresis=0.08),
    ),
    phases=PhaseNames(rest="hang", away="pulling", turn="top", back="lowering"),
    eccentric="back",
    faults=(
        # The hands hold the bar: the nose must rise above them for the chin to clear it.
        FaultRule(id="chin_below_bar", title="chin not over the bar", measure="nose_over_wrists", aggregate="max",
                  below=0.1, cue="Pull until your chin clears the bar"),
        # Swinging the knees up to kip past the hard part. (Not straightening the arms at the bottom
        # is not judged: the rep's frames end as the hands-over-shoulders height settles, which it
        # does well before the elbows are straight.)
        FaultRule(id="kipping", title="swinging the legs (kipping)", measure="hip_angle", aggregate="min",
                  below=150, views=("side",), cue="Keep your legs still, pull with your back"),
    ),
    preferred_views=("side",),
    view_guidance="Turn sideways so I can see your legs and the bar",
    needs_parts=("head", "shoulders", "elbows", "hands", "hips"),
    partial_cue="Pull higher, chin over the bar",
    depth=DepthMeasure(measure="nose_over_wrists", aggregate="max", views=("front", "side")),
    min_rep_s=0.8,
)
