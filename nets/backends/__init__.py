"""The inference engines behind nets.predictor.Predictor: TensorRT, ONNX Runtime, PyTorch.

BACKENDS is the one list of names a user may choose (every command line's --backend
offers exactly these); "auto" lets nets.predictor.load_predictor pick by what is
installed and present. This file imports nothing, so the command lines read it
without loading an engine and `run.py --help` stays instant.
"""

BACKENDS = ("auto", "tensorrt", "onnxruntime", "torch")
