"""keras_gans.serving.warmup: the warm-up records parse as TF Serving's PredictionLogs and run."""

import os

import numpy as np
import pytest
import tensorflow as tf
from _serving_cases import export_cases

from keras_gans.serving.warmup import WARMUP_FILE, encode_predict_log


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    return export_cases(tmp_path_factory.mktemp("exports"), ["gan", "wgan_gp"])


def test_warmup_records_parse_as_prediction_logs_and_run(exports):
    # The official protos (the `serving` extra, in the `test` extra too): an independent parser.
    from tensorflow_serving.apis import prediction_log_pb2

    for name in ("gan", "wgan_gp"):
        path = exports[name].path
        signatures = tf.saved_model.load(path).signatures
        records = list(tf.data.TFRecordDataset(os.path.join(path, WARMUP_FILE)).as_numpy_iterator())
        seen = []
        for record in records:
            log = prediction_log_pb2.PredictionLog.FromString(record)
            assert log.WhichOneof("log_type") == "predict_log"
            request = log.predict_log.request
            signature = request.model_spec.signature_name
            seen.append(signature)
            specs = signatures[signature].structured_input_signature[1]
            assert set(request.inputs) == set(specs)
            inputs = {}
            for key, proto in request.inputs.items():
                assert tf.dtypes.as_dtype(proto.dtype) == specs[key].dtype
                inputs[key] = tf.constant(tf.make_ndarray(proto))
                assert specs[key].shape.is_compatible_with(inputs[key].shape)
            outputs = signatures[signature](**inputs)
            assert all(int(tensor.shape[0]) >= 1 for tensor in outputs.values())
        assert sorted(seen) == ["generate", "generate_png", "interpolate", "serving_default"]
    # The hand encoding is byte-for-byte what the official protos would write.
    from tensorflow_serving.apis import model_pb2, predict_pb2

    value = np.arange(6, dtype=np.float32).reshape(2, 3)
    request = predict_pb2.PredictRequest(model_spec=model_pb2.ModelSpec(signature_name="serving_default"))
    request.inputs["z"].CopyFrom(tf.make_tensor_proto(value))
    official = prediction_log_pb2.PredictionLog(predict_log=prediction_log_pb2.PredictLog(request=request))
    assert encode_predict_log("serving_default", {"z": value}) == official.SerializeToString()
