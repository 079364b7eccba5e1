"""ONNX models through onnxruntime: a graph of operators, loaded without running code from the file.

``OnnxModel`` gives the ``predict`` the checks call. A graph converted from a
DataFrame pipeline (skl2onnx with one input per column) records its input
columns, which become ``feature_names_in_``; a single tensor input takes the
feature columns in the data's order.
"""

from __future__ import annotations

from typing import Any

from govflow.checks._result import CheckInputError

_NUMPY_TYPES = {
    "tensor(float)": "float32",
    "tensor(double)": "float64",
    "tensor(int64)": "int64",
    "tensor(int32)": "int32",
    "tensor(bool)": "bool",
    "tensor(string)": "object",
}


def _tensors(graph: Any) -> Any:
    """Every tensor a graph holds: initializers and node attributes, subgraphs included."""
    yield from graph.initializer
    for sparse in graph.sparse_initializer:
        yield sparse.values
        yield sparse.indices
    yield from _node_tensors(graph.node)


def _node_tensors(nodes: Any) -> Any:
    for node in nodes:
        for attribute in node.attribute:
            if attribute.HasField("t"):
                yield attribute.t
            yield from attribute.tensors
            if attribute.HasField("g"):
                yield from _tensors(attribute.g)
            for subgraph in attribute.graphs:
                yield from _tensors(subgraph)


def refuse_external_data(data: bytes) -> None:
    """An ONNX file must hold all its weights: a tensor stored as "external data" names a file that
    onnxruntime reads relative to the working folder (a key file under the project's .govflow)."""
    import itertools

    import onnx

    try:
        model = onnx.load_model_from_string(data)
    except Exception as err:  # protobuf's DecodeError, or anything a broken file raises
        raise CheckInputError(f"cannot load ONNX model: not an ONNX graph ({type(err).__name__})") from err
    functions = (_node_tensors(f.node) for f in model.functions)
    for tensor in itertools.chain(_tensors(model.graph), *functions):
        if tensor.data_location == onnx.TensorProto.EXTERNAL or len(tensor.external_data):
            raise CheckInputError(
                f"cannot load ONNX model: tensor {tensor.name!r} is stored as external data "
                "(a file beside the model); save the model with its weights inside "
                "(onnx.save_model(model, path, save_as_external_data=False))"
            )


class OnnxModel:
    def __init__(self, data: bytes) -> None:
        import numpy as np
        import onnxruntime as ort

        refuse_external_data(data)
        try:
            self._session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
        except Exception as err:  # onnxruntime raises its own types for a bad graph
            text = str(err).strip().splitlines()
            raise CheckInputError(
                f"cannot load ONNX model: {text[0] if text else type(err).__name__}"
            ) from err
        self._inputs = self._session.get_inputs()
        self.kind = self.model_type = "OnnxModel"
        if len(self._inputs) > 1:
            self.feature_names_in_ = np.asarray([i.name for i in self._inputs], dtype=object)

    def predict(self, X: Any) -> Any:
        import numpy as np

        if len(self._inputs) > 1:
            feeds = {
                i.name: np.asarray(X[i.name]).astype(_NUMPY_TYPES.get(i.type, "float32")).reshape(-1, 1)
                for i in self._inputs
            }
        else:
            only = self._inputs[0]
            feeds = {only.name: np.asarray(X).astype(_NUMPY_TYPES.get(only.type, "float32"))}
        label = self._session.run(None, feeds)[0]
        return np.asarray(label).reshape(-1)
