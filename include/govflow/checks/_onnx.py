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


class OnnxModel:
    def __init__(self, data: bytes) -> None:
        import numpy as np
        import onnxruntime as ort

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
