"""Video Swin RGB features: a clip of camera frames to a feature, and a phase/technique head over it.

The backbone is the Video Swin Transformer (written here in plain torch, `swin3d.py`) with
torchvision's Kinetics-400 weights (`prepare_full` fetches them); the head is fitted on the real
development videos by scripts/train_video_head.py. Meant for a GPU machine at a low rate beside
pose (a clip every second or so); on CPU it runs a shorter clip. Usage:

    options = VideoOptions.for_profile("full")
    clips = ClipFeatures(options)                       # loads <models>/video/swin3d_t-7615ae03.pth
    head = ClipHead.load(options.head_path())
    head.check_features(clips.feature_config)
    indices = clip_indices(end=t, fps=30.0, options=options)   # which buffered frames make the clip
    reading = head.predict(clips.features([frames[i] for i in indices]))
    reading.phase, reading.phase_probabilities, reading.technique
"""

from models.video.checkpoint import CHECKPOINT_URLS, VideoModelUnavailable, checkpoint_path, load_backbone
from models.video.clips import clip_indices
from models.video.features import ClipFeatures
from models.video.head import PHASES, TECHNIQUES, ClipHead, ClipReading, fit_head
from models.video.options import VideoOptions
from models.video.prepare import prepare_full
from models.video.swin3d import SwinConfig, VideoSwin3d, swin3d_b, swin3d_s, swin3d_t

__all__ = [
    "CHECKPOINT_URLS",
    "PHASES",
    "TECHNIQUES",
    "ClipFeatures",
    "ClipHead",
    "ClipReading",
    "SwinConfig",
    "VideoModelUnavailable",
    "VideoOptions",
    "VideoSwin3d",
    "checkpoint_path",
    "clip_indices",
    "fit_head",
    "load_backbone",
    "prepare_full",
    "swin3d_b",
    "swin3d_s",
    "swin3d_t",
]
