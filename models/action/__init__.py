"""Skeleton action model: which exercise a keypoint sequence shows, and each frame's rep progress.

A small causal temporal convolution network (trained by scripts/train_skeleton.py, see
models/action/MODEL_CARD.md), shipped in this package as ONNX and run with onnxruntime:

    model = SkeletonActionModel.load()
    out = model.read(times, keypoints, t)   # out.probabilities (classes,), out.progress (window,)
"""

from models.action.onnx_model import MODEL_FILE, ActionOutput, SkeletonActionModel

__all__ = ["MODEL_FILE", "ActionOutput", "SkeletonActionModel"]
