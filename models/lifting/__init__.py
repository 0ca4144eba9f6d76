"""3D lifting: MotionBERT-Lite turns a person's recent 2D keypoints into 3D joints and a motion embedding.

Usage (the checkpoint comes from `prepare_full`, the full profile's setup step):

    model = load_model(options, weights_dir())
    lifter = MotionLifter(model, options)
    lifter.push(person.keypoints, width, height)  # every frame: COCO (17, 3) in pixels
    lifted = lifter.lift()  # None at first; then Lifted(joints (17, 3) H36M, embedding (512,))
    measures = measure(lifted.joints)  # knee/hip angles, trunk lean, squat depth, knee tracking
"""

from models.lifting.checkpoint import LiftingModelUnavailable, load_weights, read_state_dict
from models.lifting.dstformer import DSTformer
from models.lifting.geometry3d import UP, Measures3D, measure
from models.lifting.joints import H36M, H36M_JOINTS, coco_to_h36m, normalize_box, normalize_screen
from models.lifting.lifter import Lifted, MotionLifter, load_model
from models.lifting.options import DSTformerConfig, LiftingOptions
from models.lifting.prepare import prepare_full

__all__ = [
    "H36M",
    "H36M_JOINTS",
    "UP",
    "DSTformer",
    "DSTformerConfig",
    "Lifted",
    "LiftingModelUnavailable",
    "LiftingOptions",
    "Measures3D",
    "MotionLifter",
    "coco_to_h36m",
    "load_model",
    "load_weights",
    "measure",
    "normalize_box",
    "normalize_screen",
    "prepare_full",
    "read_state_dict",
]
