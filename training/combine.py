"""Two training runs of the skeleton model in one ONNX graph: the class vote of all their networks,
the rep progress of the first run's.

Averaging more networks steadies which exercise the model names: the shipped run's two networks
joined by two more from seeds 2 and 3 recognised 1-2 points more of the real development set's
exercises, and 3-6 points more of its 1.5 s and 2.5 s clips, with no more of its unknown movements
taken for exercises (one or two more of some 200 short cuts of them; docs/REAL_PEOPLE.md). Their
progress is not averaged: the counting thresholds (coaching/phases.py) follow the first run's
swing, and a progress averaged over four networks swung less on some sets and miscounted them (all
sets' mean absolute error 1.36 → 1.63 reps).
"""

from __future__ import annotations

from pathlib import Path

import onnx
from onnx import TensorProto, compose, helper

INPUT, LOGITS, PROGRESS = "frames", "logits", "progress"


def combine(first: Path, second: Path, out: Path, first_weight: float = 0.5) -> None:
    """Write one graph reading `frames` through both models: logits `first_weight` : the rest
    (weigh each by the networks it averages, so every network counts once), progress `first`'s.
    Both must have been exported by scripts/train_skeleton.py (same input and output names)."""
    first_model = onnx.load(str(first))
    a = compose.add_prefix(first_model, "a_")  # a prefixed copy: first_model keeps the plain names
    b = compose.add_prefix(onnx.load(str(second)), "b_")
    nodes = []
    for model, prefix in ((a, "a_"), (b, "b_")):
        for node in model.graph.node:
            node.input[:] = [INPUT if name == prefix + INPUT else name for name in node.input]
        nodes += list(model.graph.node)
    weights = [helper.make_tensor("w_a", TensorProto.FLOAT, [], [first_weight]),
               helper.make_tensor("w_b", TensorProto.FLOAT, [], [1.0 - first_weight])]
    nodes += [
        helper.make_node("Mul", ["a_" + LOGITS, "w_a"], ["a_weighted"]),
        helper.make_node("Mul", ["b_" + LOGITS, "w_b"], ["b_weighted"]),
        helper.make_node("Add", ["a_weighted", "b_weighted"], [LOGITS]),
        helper.make_node("Identity", ["a_" + PROGRESS], [PROGRESS]),
    ]
    template = first_model.graph
    graph = helper.make_graph(nodes, "combined_runs", list(template.input), list(template.output),
                              initializer=list(a.graph.initializer) + list(b.graph.initializer) + weights)
    model = helper.make_model(graph, opset_imports=a.opset_import, ir_version=a.ir_version)
    onnx.checker.check_model(model)
    onnx.save(model, str(out))
