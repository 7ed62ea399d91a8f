"""TF Serving warm-up records: one small request per signature, replayed when a version loads.

    EXPORT_DIR/<version>/assets.extra/tf_serving_warmup_requests
"""

import os

import numpy as np
import tensorflow as tf

from keras_gans.models.gan import latent_vectors

WARMUP_FILE = os.path.join("assets.extra", "tf_serving_warmup_requests")


def warmup_requests(latent_dim):
    """[(signature_name, {input name: numpy value})]: one small request per signature."""
    return [
        ("serving_default", {"z": latent_vectors(1, latent_dim, 0).numpy()}),
        ("generate", {"num_images": np.int32(1), "seed": np.int64(0)}),
        ("generate_png", {"num_images": np.int32(1), "seed": np.int64(0)}),
        ("interpolate", {"seed_start": np.int64(0), "seed_end": np.int64(1), "steps": np.int32(2)}),
    ]


def write_warmup_requests(path, requests):
    """Writes `requests` as a TFRecord file of serialized `tensorflow.serving.PredictionLog`s.

    TF Serving replays this file (assets.extra/tf_serving_warmup_requests)
    when it loads a version, so the first real request does not pay for
    graph tracing and kernel set-up.

    The records are encoded here by hand rather than with the
    `tensorflow-serving-api` protos, so exporting needs only TensorFlow: that
    package pins the TensorFlow minor version it was built for and would
    otherwise force an upgrade or downgrade of TensorFlow. The schema used
    (field numbers from tensorflow_serving/apis/*.proto, stable since 2018):

        PredictionLog { PredictLog predict_log = 6; }
        PredictLog    { PredictRequest request = 1; }
        PredictRequest { ModelSpec model_spec = 1; map<string, TensorProto> inputs = 2; }
        ModelSpec     { string signature_name = 3; }

    A map field is a repeated entry message {key = 1; value = 2}. The tests
    parse the file back with `tensorflow_serving.apis.prediction_log_pb2`.
    The model name is left empty: TF Serving runs warm-up records against
    the version being loaded, whatever the name.
    """
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with tf.io.TFRecordWriter(path) as writer:
        for signature_name, inputs in requests:
            writer.write(encode_predict_log(signature_name, inputs))


def encode_predict_log(signature_name, inputs):
    """The wire bytes of PredictionLog{predict_log{request{model_spec{signature_name}, inputs}}}."""
    request = _length_delimited(1, _length_delimited(3, signature_name.encode("utf-8")))
    for name in sorted(inputs):
        tensor = tf.make_tensor_proto(inputs[name]).SerializeToString()
        request += _length_delimited(2, _length_delimited(1, name.encode("utf-8")) + _length_delimited(2, tensor))
    return _length_delimited(6, _length_delimited(1, request))


def _length_delimited(field_number, payload):
    """One protobuf field of wire type 2 (bytes, string or message)."""
    return _varint(field_number << 3 | 2) + _varint(len(payload)) + payload


def _varint(value):
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)
