"""The REST examples of docs/serving.md, parsed and answered as TF Serving would, on a real export."""

import base64
import contextlib
import io
import json
import os
import re

import numpy as np
import pytest
import tensorflow as tf
from _serving_cases import export_cases

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def dcgan_signatures(tmp_path_factory):
    """A DCGAN export (28x28x1, latent_dim 100: the docs' example shapes) loaded in this process."""
    case = export_cases(tmp_path_factory.mktemp("exports"), ["dcgan"])["dcgan"]
    return tf.saved_model.load(case.path).signatures


def _serving_doc():
    with open(os.path.join(REPO_ROOT, "docs", "serving.md"), encoding="utf-8") as f:
        return f.read()


def _is_b64(value):
    return isinstance(value, dict) and list(value) == ["b64"] and isinstance(value["b64"], str)


def _leaf_values(value):
    if isinstance(value, list):
        for item in value:
            yield from _leaf_values(item)
    else:
        yield value


def _json_tensor(value, spec):
    """A JSON value as TF Serving turns it into a tensor of the signature's dtype (json_tensor.cc rules)."""
    for leaf in _leaf_values(value):
        if spec.dtype.is_integer:
            assert isinstance(leaf, int) and not isinstance(leaf, bool), f"{leaf!r} is not an integer"
        elif spec.dtype.is_floating:
            assert isinstance(leaf, (int, float)) and not isinstance(leaf, bool), f"{leaf!r} is not a number"
    return tf.constant(np.array(value, dtype=spec.dtype.as_numpy_dtype))


def tf_serving_request(body, signatures):
    """(signature name, {input: tensor}, 'row' or 'columnar'), as TF Serving's REST layer parses `body`."""
    doc = json.loads(body)
    name = doc.get("signature_name", "serving_default")
    specs = signatures[name].structured_input_signature[1]
    assert ("instances" in doc) != ("inputs" in doc), "exactly one of instances / inputs"
    if "instances" in doc:
        rows = doc["instances"]
        assert isinstance(rows, list) and rows
        if isinstance(rows[0], dict) and not _is_b64(rows[0]):
            for row in rows:
                assert set(row) == set(specs)
            columns = {key: [row[key] for row in rows] for key in specs}
        else:
            assert len(specs) == 1, "a plain list needs a single-input signature"
            columns = {next(iter(specs)): rows}
        return name, {key: _json_tensor(columns[key], specs[key]) for key in specs}, "row"
    value = doc["inputs"]
    if isinstance(value, dict) and not _is_b64(value):
        assert set(value) == set(specs), f"inputs {sorted(value)} != {sorted(specs)}"
        return name, {key: _json_tensor(value[key], specs[key]) for key in specs}, "columnar"
    assert len(specs) == 1
    key = next(iter(specs))
    return name, {key: _json_tensor(value, specs[key])}, "columnar"


def tf_serving_response(outputs, request_format):
    """The JSON TF Serving answers with: predictions (row) or outputs (columnar); `*_bytes` strings as b64."""

    def to_json(name, tensor):
        array = tensor.numpy()
        if array.dtype == object:
            encode = (lambda b: {"b64": base64.b64encode(b).decode()}) if name.endswith("_bytes") else bytes.decode
            return np.vectorize(encode, otypes=[object])(array).tolist()
        return array.tolist()

    assert len(outputs) == 1  # every signature here has one output, so no per-name nesting
    (name, tensor), = outputs.items()
    if request_format == "row":
        assert tensor.shape.rank >= 1 and tensor.shape[0] >= 1
        return {"predictions": to_json(name, tensor)}
    return {"outputs": to_json(name, tensor)}


def _nested_shape(value):
    shape = []
    while isinstance(value, list):
        shape.append(len(value))
        value = value[0]
    return shape, value


def _doc_requests(text):
    """[(body, response key, documented shape, url)] for every :predict example of the serving docs."""
    examples = []
    for block, after in re.findall(r"```sh\n(.*?)```\n(.*?)(?=```|\Z)", text, re.S):
        if ":predict" not in block:
            continue
        url = re.search(r"http://localhost:8501/v1/models/(\w+):predict", block).group(1)
        inline = re.search(r"-d '(\{.*?\})'", block, re.S)
        if inline:
            body = inline.group(1)
        else:
            # `python -c '...' > z.json` then `curl -d @z.json`: run the snippet as the reader would.
            code = re.search(r"python -c '(.*?)' > (\S+)", block).group(1)
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                exec(code, {})
            body = out.getvalue()
        response = re.search(r'Response: `\{"(\w+)"', after).group(1)
        shape = [int(d) for d in re.search(r"shape \[([\d, ]+)\]", after).group(1).split(",")]
        examples.append((body, response, shape, url))
    return examples


def test_docs_rest_requests_run_through_the_signatures(dcgan_signatures):
    text = _serving_doc()
    # The docker command serves the mounted export under the name the URLs use.
    docker = re.search(r"docker run.*?tensorflow/serving", text, re.S).group(0)
    name = re.search(r"-e MODEL_NAME=(\w+)", docker).group(1)
    assert f"target=/models/{name}" in docker
    examples = _doc_requests(text)
    signatures = dcgan_signatures
    seen = set()
    for body, key, shape, url in examples:
        assert url == name
        signature, inputs, request_format = tf_serving_request(body, signatures)
        seen.add((signature, request_format))
        response = json.loads(json.dumps(tf_serving_response(signatures[signature](**inputs), request_format)))
        assert list(response) == [key]
        got, leaf = _nested_shape(response[key])
        assert got == shape, (signature, got, shape)
        if signature == "generate_png":
            png = tf.io.decode_png(base64.b64decode(leaf["b64"])).numpy()
            assert png.shape == (28, 28, 1)
        elif signature == "serving_default":
            assert isinstance(leaf, float) and -1.0 <= leaf <= 1.0
        else:
            assert isinstance(leaf, int) and 0 <= leaf <= 255
    assert seen == {
        ("serving_default", "row"), ("serving_default", "columnar"),
        ("generate", "columnar"), ("generate_png", "columnar"), ("interpolate", "columnar"),
    }


def test_tf_serving_parser_follows_tf_serving_rules(dcgan_signatures):
    """The emulation above rejects what TF Serving rejects, so the docs test means something."""
    signatures = dcgan_signatures
    bad_bodies = [
        '{"instances": [[0.5]], "inputs": {"z": [[0.5]]}}',  # both forms
        '{"signature_name": "generate", "inputs": {"num_images": 4}}',  # missing input
        '{"signature_name": "generate", "inputs": {"num_images": 4.5, "seed": 1}}',  # float for int32
        '{"signature_name": "generate", "instances": [4, 1]}',  # plain list, two inputs
    ]
    for body in bad_bodies:
        with pytest.raises(AssertionError):
            tf_serving_request(body, signatures)
    # Row format batches each named input: scalars become [1] tensors, which generate refuses.
    _, inputs, request_format = tf_serving_request(
        '{"signature_name": "generate", "instances": [{"num_images": 4, "seed": 1}]}', signatures
    )
    assert request_format == "row" and inputs["num_images"].shape == (1,)
    with pytest.raises(tf.errors.InvalidArgumentError):
        signatures["generate"](**inputs)
