"""Pure coaching logic: keypoints in, coaching events and measured facts out. No I/O, no models.

Entry points:
    coaching.coach.Coach                 one session: analysis, exercise switching, statistics
    coaching.analyzer.ExerciseAnalyzer   one exercise: phases, reps, faults, guidance
    coaching.exercises.EXERCISES         the exercise definitions (data, one file each)
    coaching.events                      the event models sent to clients
    coaching.recognition                 which exercise is being done (small trained classifier)
    coaching.skeleton                    COCO-17 joint names and edges
"""
