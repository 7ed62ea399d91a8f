"""The serving export: layout, signatures, warm-up, errors, the REST examples and the sampling CLI.

One module fixture exports all four models (tiny widths; GAN actually fit for
one step, the others with randomised BatchNorm statistics so that inference
mode matters). One fresh Python process that imports only TensorFlow reloads
all four exports, while `saved_model_cli` runs beside it.
"""

import ast
import base64
import contextlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import types

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_gans import export as export_lib
from keras_gans import sample as sample_lib
from keras_gans.data import to_uint8
from keras_gans.errors import UserError
from keras_gans.models import MODELS, latent_vectors

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# name: (image_shape, latent_dim, width). GAN and DCGAN have the README's
# Fashion-MNIST shapes; WGAN and WGAN-GP check other shapes and 3 channels.
CASES = {
    "gan": ((28, 28, 1), 100, 8),
    "dcgan": ((28, 28, 1), 100, 4),
    "wgan": ((16, 16, 1), 16, 4),
    "wgan_gp": ((32, 32, 3), 16, 4),
}
Z_ROWS = 5
NUM, SEED = 6, 3
MAX_ABS_DIFF = 1e-5  # float32 graph vs eager kernels differ by a few ulps, nothing more


def _randomise(generator, rng):
    """Weights that give varied images (tiny untrained DCGANs return an almost flat grey), and
    BatchNorm moving statistics far from their initial 0/1, so inference and training mode differ."""
    for weight in generator.weights:
        shape, path = tuple(weight.shape), weight.path
        if "moving_mean" in path:
            value = rng.normal(0, 0.5, shape)
        elif "moving_variance" in path:
            value = rng.uniform(0.3, 3.0, shape)
        elif "gamma" in path:
            value = rng.uniform(0.5, 1.5, shape)
        elif len(shape) >= 2:  # kernels
            value = rng.normal(0, 1.5 / np.sqrt(np.prod(shape) / shape[-1]), shape)
        else:  # biases, beta
            value = rng.normal(0, 0.2, shape)
        weight.assign(value.astype("float32"))


def _build(name):
    image_shape, latent_dim, width = CASES[name]
    keras.utils.set_random_seed(list(CASES).index(name))
    model = MODELS[name](image_shape=image_shape, latent_dim=latent_dim, width=width, seed=0)
    _randomise(model.generator, np.random.default_rng(1))
    return model


def _training_mode_output(generator, z):
    # Training mode also updates BatchNorm's moving statistics: put them back.
    weights = generator.get_weights()
    images = generator(z, training=True).numpy()
    generator.set_weights(weights)
    return images


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    """{name: SimpleNamespace(model, path, z, reference outputs)} for the four models, exported once."""
    base = tmp_path_factory.mktemp("exports")
    cases = {}
    for name in CASES:
        model = _build(name)
        if name == "gan":
            # One real training step (eager train_step: a fit without its
            # tracing cost): the model then owns optimiser variables, which
            # must stay out of the export, and needs no allow_untrained.
            model.compile(jit_compile=False)
            model.train_step(tf.constant(np.random.default_rng(0).uniform(-1, 1, (8, 28, 28, 1)), tf.float32))
            path = export_lib.export_generator(model, str(base / name))
        else:
            path = export_lib.export_generator(model, str(base / name), allow_untrained=True)
        z = np.random.default_rng(2).standard_normal((Z_ROWS, model.latent_dim)).astype("float32")
        cases[name] = types.SimpleNamespace(
            model=model,
            export_dir=str(base / name),
            path=path,
            z=z,
            inference=model.generator(z, training=False).numpy(),
            training=_training_mode_output(model.generator, z),
            generated=model.generate(NUM, seed=SEED),
            ends=(model.generate(1, seed=0)[0], model.generate(1, seed=1)[0]),
        )
    return cases


FRESH_PROCESS = r"""
import json, sys
import numpy as np
import tensorflow as tf

paths, inputs_file, out = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3]
inputs = np.load(inputs_file)
arrays, meta = {}, {}

def call(signature, **kwargs):
    return {k: v.numpy() for k, v in signature(**kwargs).items()}

for name, path in paths.items():
    signatures = tf.saved_model.load(path).signatures
    generate = lambda n, s: call(signatures["generate"], num_images=tf.constant(n, tf.int32),
                                 seed=tf.constant(s, tf.int64))["images"]
    arrays[name + "/serving"] = call(signatures["serving_default"], z=tf.constant(inputs[name]))["images"]
    arrays[name + "/generate"] = generate(6, 3)
    arrays[name + "/generate_again"] = generate(6, 3)
    arrays[name + "/generate_other_seed"] = generate(6, 4)
    pngs = call(signatures["generate_png"], num_images=tf.constant(2), seed=tf.constant(3, tf.int64))["png_bytes"]
    arrays[name + "/png"] = np.stack([tf.io.decode_png(p).numpy() for p in pngs])
    arrays[name + "/interpolate"] = call(signatures["interpolate"], seed_start=tf.constant(0, tf.int64),
                                         seed_end=tf.constant(1, tf.int64), steps=tf.constant(3))["images"]
    errors = {}
    for bad in (0, -5, 1025):
        try:
            generate(bad, 0)
            errors[str(bad)] = None
        except tf.errors.InvalidArgumentError as error:
            errors[str(bad)] = error.message
    try:
        call(signatures["interpolate"], seed_start=tf.constant(0, tf.int64), seed_end=tf.constant(1, tf.int64),
             steps=tf.constant(1))
        errors["steps=1"] = None
    except tf.errors.InvalidArgumentError as error:
        errors["steps=1"] = error.message
    meta[name] = {"signatures": sorted(signatures), "errors": errors}

meta["keras_gans_imported"] = any(m.split(".")[0] == "keras_gans" for m in sys.modules)
np.savez(out + ".npz", **arrays)
with open(out + ".json", "w") as f:
    json.dump(meta, f)
"""


def _saved_model_cli():
    found = shutil.which("saved_model_cli")
    # The console script's own module, where the script is not on PATH.
    return [found] if found else [sys.executable, "-m", "tensorflow.python.tools.saved_model_cli"]


@pytest.fixture(scope="module")
def fresh(exports, tmp_path_factory):
    """Results of the fresh TensorFlow-only process, and `saved_model_cli show --all` output for WGAN-GP."""
    work = tmp_path_factory.mktemp("fresh")
    np.savez(work / "inputs.npz", **{name: case.z for name, case in exports.items()})
    paths = {name: case.path for name, case in exports.items()}
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    # cwd outside the repository and no PYTHONPATH: keras_gans is not even importable by accident.
    reload = subprocess.Popen(
        [sys.executable, "-c", FRESH_PROCESS, json.dumps(paths), str(work / "inputs.npz"), str(work / "out")],
        cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    cli = subprocess.Popen(
        _saved_model_cli() + ["show", "--dir", exports["wgan_gp"].path, "--all"],
        cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    # The sampling CLI as a user runs it (this one may import keras_gans), on WGAN-GP's export folder.
    sampler = subprocess.Popen(
        [sys.executable, "-m", "keras_gans.sample", "--export_dir", exports["wgan_gp"].export_dir, "--num", "5",
         "--seed", "3", "--png", str(work / "grid.png"), "--npy", str(work / "images.npy"), "--scale", "2"],
        env=dict(env, PYTHONPATH=REPO_ROOT), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    reload_log, _ = reload.communicate(timeout=300)
    cli_out, cli_err = cli.communicate(timeout=300)
    sampler_out, sampler_err = sampler.communicate(timeout=300)
    assert reload.returncode == 0, reload_log[-3000:]
    assert cli.returncode == 0, cli_err[-3000:]
    with open(work / "out.json") as f:
        meta = json.load(f)
    return types.SimpleNamespace(
        arrays=dict(np.load(work / "out.npz")), meta=meta, cli=cli_out, work=work,
        sampler=types.SimpleNamespace(returncode=sampler.returncode, stdout=sampler_out, stderr=sampler_err),
    )


@pytest.fixture(scope="module")
def dcgan_signatures(exports):
    """The DCGAN export (28x28x1, latent_dim 100: the docs' example shapes) loaded in this process."""
    return tf.saved_model.load(exports["dcgan"].path).signatures


def assert_uint8_matches(actual, reference):
    """uint8 `actual` equals to_uint8(float `reference`), except where `reference` sits on a rounding edge.

    Graph and eager kernels differ by an ulp or so; that can flip a pixel
    only when (x + 1) * 127.5 is within a hair of .5. Any other mismatch
    (another latent, another network) changes almost every pixel.
    """
    expected = to_uint8(reference)
    assert actual.dtype == np.uint8 and actual.shape == expected.shape
    scaled = (reference.astype(np.float32) + 1.0) * 127.5
    on_edge = np.abs(scaled - np.floor(scaled) - 0.5) < 1e-3
    differ = actual != expected
    assert not np.any(differ & ~on_edge), f"{int(np.sum(differ & ~on_edge))} pixels differ away from a rounding edge"
    assert np.abs(actual.astype(int) - expected.astype(int)).max(initial=0) <= 1


# ----- fresh process: both signatures against the in-memory generator --------------


def test_fresh_process_imports_only_tensorflow(fresh):
    assert fresh.meta["keras_gans_imported"] is False
    for name in CASES:
        assert fresh.meta[name]["signatures"] == ["generate", "generate_png", "interpolate", "serving_default"]


@pytest.mark.parametrize("name", list(CASES))
def test_serving_default_equals_generator_in_inference_mode(exports, fresh, name):
    case = exports[name]
    served = fresh.arrays[name + "/serving"]
    height, width, channels = CASES[name][0]
    assert served.dtype == np.float32 and served.shape == (Z_ROWS, height, width, channels)
    assert np.abs(served - case.inference).max() < MAX_ABS_DIFF
    assert served.min() >= -1.0 and served.max() <= 1.0
    if name != "gan":
        # BatchNorm generators: training mode gives clearly different images,
        # so the match above really is inference mode.
        assert np.abs(served - case.training).max() > 1e-2


@pytest.mark.parametrize("name", list(CASES))
def test_generate_matches_model_generate(exports, fresh, name):
    generated = fresh.arrays[name + "/generate"]
    assert generated.shape == (NUM, *CASES[name][0])
    assert_uint8_matches(generated, exports[name].generated)
    # The signature's latents are exactly latent_vectors(NUM, latent_dim, SEED).
    z = latent_vectors(NUM, exports[name].model.latent_dim, SEED).numpy()
    assert_uint8_matches(generated, exports[name].model.generator(z, training=False).numpy())


@pytest.mark.parametrize("name", list(CASES))
def test_generate_is_deterministic_per_seed(fresh, name):
    first, again = fresh.arrays[name + "/generate"], fresh.arrays[name + "/generate_again"]
    other = fresh.arrays[name + "/generate_other_seed"]
    np.testing.assert_array_equal(first, again)
    assert np.mean(first != other) > 0.2  # another seed: other latents, other images
    # Different images within one batch too (each row its own latent).
    assert np.mean(first[0] != first[1]) > 0.2


@pytest.mark.parametrize("name", list(CASES))
def test_generate_png_and_interpolate(exports, fresh, name):
    pngs = fresh.arrays[name + "/png"]
    np.testing.assert_array_equal(pngs, fresh.arrays[name + "/generate"][:2])  # same seed: same first images
    steps = fresh.arrays[name + "/interpolate"]
    assert steps.shape == (3, *CASES[name][0]) and steps.dtype == np.uint8
    assert_uint8_matches(steps[0], exports[name].ends[0])
    assert_uint8_matches(steps[-1], exports[name].ends[1])
    assert np.mean(steps[1] != steps[0]) > 0.1 and np.mean(steps[1] != steps[2]) > 0.1


@pytest.mark.parametrize("name", list(CASES))
def test_signature_refuses_bad_counts(fresh, name):
    errors = fresh.meta[name]["errors"]
    for bad in ("0", "-5", "1025"):
        assert errors[bad] is not None and "num_images must be between 1 and 1024" in errors[bad]
    assert errors["steps=1"] is not None and "steps must be between 2 and 1024" in errors["steps=1"]


def test_saved_model_cli_lists_documented_signatures(fresh):
    blocks = {
        match.group(1): match.group(2)
        for match in re.finditer(r"signature_def\['(\w+)'\]:\n(.*?)Method name is: (\S*)", fresh.cli, re.S)
    }

    def tensors(block, kind):
        found = re.findall(kind + r"\['(\w+)'\] tensor_info:\s+dtype: (\w+)\s+shape: (\([^)]*\))", block)
        return {name: (dtype, shape) for name, dtype, shape in found}

    # WGAN-GP export: latent_dim 16, images 32x32x3.
    expected = {
        "serving_default": ({"z": ("DT_FLOAT", "(-1, 16)")}, {"images": ("DT_FLOAT", "(-1, 32, 32, 3)")}),
        "generate": (
            {"num_images": ("DT_INT32", "()"), "seed": ("DT_INT64", "()")},
            {"images": ("DT_UINT8", "(-1, 32, 32, 3)")},
        ),
        "generate_png": (
            {"num_images": ("DT_INT32", "()"), "seed": ("DT_INT64", "()")},
            {"png_bytes": ("DT_STRING", "(-1)")},
        ),
        "interpolate": (
            {"seed_start": ("DT_INT64", "()"), "seed_end": ("DT_INT64", "()"), "steps": ("DT_INT32", "()")},
            {"images": ("DT_UINT8", "(-1, 32, 32, 3)")},
        ),
    }
    for signature, (inputs, outputs) in expected.items():
        assert signature in blocks, fresh.cli[:2000]
        assert tensors(blocks[signature], "inputs") == inputs
        assert tensors(blocks[signature], "outputs") == outputs
    assert fresh.cli.count("Method name is: tensorflow/serving/predict") == 4


# ----- layout and content ----------------------------------------------------------


@pytest.mark.parametrize("name", list(CASES))
def test_layout_and_only_generator_weights(exports, name):
    case = exports[name]
    assert case.path == os.path.join(case.export_dir, "1")
    assert sorted(os.listdir(case.export_dir)) == ["1"]  # no staging folder left
    for item in ("saved_model.pb", "variables/variables.index", export_lib.WARMUP_FILE):
        assert os.path.isfile(os.path.join(case.path, item)), item
    assert os.stat(case.path).st_mode & 0o055, "version folder must be readable by other users (the server)"
    stored = [(key, shape) for key, shape in tf.train.list_variables(os.path.join(case.path, "variables", "variables"))
              if key != "_CHECKPOINTABLE_OBJECT_GRAPH"]
    generator = case.model.generator
    # Each generator weight exactly once; nothing of D, the optimisers or the seed generator.
    assert sorted(tuple(s) for _, s in stored) == sorted(tuple(w.shape) for w in generator.weights)
    if name == "gan":
        assert case.model.g_optimizer.variables and case.model.d_optimizer.variables  # they existed


# ----- REST examples of the serving docs, as TF Serving parses and answers them -----


def _serving_doc():
    readme = os.path.join(REPO_ROOT, "README.md")
    if os.path.isfile(readme):
        with open(readme, encoding="utf-8") as f:
            text = f.read()
        if "## Serving" in text:
            return text[text.index("## Serving"):]
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


# ----- warm-up -----------------------------------------------------------------------


def test_warmup_records_parse_as_prediction_logs_and_run(exports):
    # The official protos (the `serving` extra, in the `test` extra too): an independent parser.
    from tensorflow_serving.apis import prediction_log_pb2

    for name in ("gan", "wgan_gp"):
        path = exports[name].path
        signatures = tf.saved_model.load(path).signatures
        records = list(tf.data.TFRecordDataset(os.path.join(path, export_lib.WARMUP_FILE)).as_numpy_iterator())
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
    assert export_lib.encode_predict_log("serving_default", {"z": value}) == official.SerializeToString()


# ----- versions and errors -----------------------------------------------------------


def test_versions_increase_and_are_never_overwritten(tmp_path):
    # (The module fixture showed a new folder starts at version 1.)
    model = _build("wgan")
    export_dir = str(tmp_path / "export")
    first = export_lib.export_generator(model, export_dir, version=5, allow_untrained=True, warmup=False)
    second = export_lib.export_generator(model, export_dir, allow_untrained=True, warmup=False)
    assert [first, second] == [os.path.join(export_dir, "5"), os.path.join(export_dir, "6")]
    stamp = os.stat(os.path.join(first, "saved_model.pb")).st_mtime_ns
    for taken in (5, 6):
        with pytest.raises(UserError, match="already exists"):
            export_lib.export_generator(model, export_dir, version=taken, allow_untrained=True)
    assert os.stat(os.path.join(first, "saved_model.pb")).st_mtime_ns == stamp
    assert export_lib.next_version(export_dir) == 7
    assert not os.path.exists(os.path.join(second, export_lib.WARMUP_FILE))  # warmup=False honoured
    assert sorted(os.listdir(export_dir)) == ["5", "6"]


def test_export_refuses_bad_models_and_paths(tmp_path):
    model = _build("gan")
    with pytest.raises(UserError, match="never been trained"):
        export_lib.export_generator(model, str(tmp_path / "a"))  # never compiled
    model.compile(jit_compile=False)
    with pytest.raises(UserError, match="never been trained"):
        export_lib.export_generator(model, str(tmp_path / "a"))  # compiled, never fit
    unbuilt = types.SimpleNamespace(generator=keras.Sequential([keras.layers.Dense(4)]), latent_dim=4)
    with pytest.raises(UserError, match="has not been built"):
        export_lib.export_generator(unbuilt, str(tmp_path / "a"), allow_untrained=True)
    with pytest.raises(UserError, match="needs a keras_gans model"):
        export_lib.export_generator(keras.Sequential([keras.layers.Dense(4)]), str(tmp_path / "a"))
    a_file = tmp_path / "file"
    a_file.write_text("not a folder")
    with pytest.raises(UserError, match="is a file"):
        export_lib.export_generator(model, str(a_file), allow_untrained=True)
    for version in (0, -1, "x", 2.5, True):
        with pytest.raises(UserError, match="positive integer"):
            export_lib.export_generator(model, str(tmp_path / "a"), version=version, allow_untrained=True)
    assert not os.path.exists(tmp_path / "a")  # every refusal came before any write


def test_failed_export_leaves_no_version_behind(tmp_path, monkeypatch):
    model = _build("wgan")

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(export_lib, "write_warmup_requests", broken)
    with pytest.raises(OSError, match="disk full"):
        export_lib.export_generator(model, str(tmp_path / "export"), allow_untrained=True)
    assert os.listdir(tmp_path / "export") == []  # neither 1/ nor the hidden staging folder
    assert export_lib.next_version(str(tmp_path / "export")) == 1


# ----- sampling CLI ------------------------------------------------------------------


def test_sample_cli_in_a_subprocess(exports, fresh):
    """`python -m keras_gans.sample` end to end (run by the `fresh` fixture): PNG grid and .npy of `generate`."""
    case = exports["wgan_gp"]
    assert fresh.sampler.returncode == 0, fresh.sampler.stderr[-3000:]
    assert f"wrote {fresh.work / 'images.npy'}" in fresh.sampler.stdout
    png, npy = fresh.work / "grid.png", fresh.work / "images.npy"
    images = np.load(npy)
    assert images.dtype == np.uint8 and images.shape == (5, 32, 32, 3)
    assert_uint8_matches(images, case.model.generate(5, seed=3))
    from PIL import Image

    grid = np.asarray(Image.open(png))
    # 5 images -> 3 rows x 2 columns of 32 px with 2 px gaps, enlarged twice.
    assert grid.shape == (2 * (3 * 34 + 2), 2 * (2 * 34 + 2), 3)
    np.testing.assert_array_equal(grid[4:68:2, 4:68:2], images[0])


def test_sample_signatures_agree(exports, tmp_path):
    """In process: serving_default with the CLI's own latents gives generate's images; interpolate's ends."""
    case = exports["dcgan"]
    out = tmp_path / "x.npy"
    assert sample_lib.main(["--export_dir", case.path, "--num", "4", "--seed", "3", "--npy", str(out)]) == 0
    generated = np.load(out)
    assert sample_lib.main(["--export_dir", case.export_dir, "--signature", "serving_default", "--num", "4",
                            "--seed", "3", "--npy", str(out)]) == 0
    floats = np.load(out)
    assert floats.dtype == np.float32
    assert_uint8_matches(generated, floats)
    np.testing.assert_array_equal(
        sample_lib.latent_vectors(4, 100, 3).numpy(), latent_vectors(4, 100, 3).numpy()
    )
    assert sample_lib.main(["--export_dir", case.export_dir, "--signature", "interpolate", "--seed", "0",
                            "--seed_end", "1", "--num", "3", "--npy", str(out)]) == 0
    steps = np.load(out)
    assert_uint8_matches(steps[0], case.ends[0])
    assert_uint8_matches(steps[-1], case.ends[1])


def test_sample_cli_bad_input(exports, tmp_path, capsys):
    png = str(tmp_path / "g.png")
    case = exports["dcgan"]
    assert sample_lib.main(["--export_dir", case.export_dir, "--num", "0", "--png", png]) == 2
    assert "--num must be between 1 and 1024" in capsys.readouterr().err
    assert sample_lib.main(["--export_dir", case.export_dir, "--num", "2000", "--png", png]) == 2
    assert sample_lib.main(["--export_dir", str(tmp_path / "missing"), "--png", png]) == 2
    assert "is not a folder" in capsys.readouterr().err
    assert sample_lib.main(["--export_dir", str(tmp_path), "--png", png]) == 2
    assert "holds no SavedModel" in capsys.readouterr().err
    assert sample_lib.main(["--export_dir", case.export_dir, "--signature", "interpolate", "--png", png]) == 2
    assert "needs --seed_end" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        sample_lib.main(["--export_dir", case.export_dir])  # nothing to write
    assert exit_info.value.code == 2
    assert not os.path.exists(png)


def test_sample_module_needs_no_training_code():
    with open(sample_lib.__file__, encoding="utf-8") as f:
        tree = ast.parse(f.read())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").split(".")[0])
    assert imported <= {"argparse", "math", "os", "sys", "numpy", "tensorflow", "PIL"}, imported
    assert sample_lib.MAX_IMAGES == export_lib.MAX_IMAGES  # the CLI checks the bound the signatures enforce


def test_export_serves_the_generator_average_when_enabled(tmp_path):
    """With ema_decay the export holds the averaged generator, the one model.generate samples from."""
    keras.utils.set_random_seed(0)
    model = MODELS["dcgan"](image_shape=(28, 28, 1), latent_dim=8, width=4, seed=0, ema_decay=0.5)
    model.compile(g_optimizer=keras.optimizers.Adam(1e-2), jit_compile=False)
    real = tf.constant(np.random.default_rng(0).uniform(-1, 1, (8, 28, 28, 1)), tf.float32)
    for _ in range(3):
        model.train_step(real)
    _randomise(model.ema_generator, np.random.default_rng(3))  # far from the raw weights: a clear difference
    path = export_lib.export_generator(model, str(tmp_path / "export"))
    z = np.random.default_rng(2).standard_normal((Z_ROWS, 8)).astype("float32")
    served = tf.saved_model.load(path).signatures["serving_default"](z=tf.constant(z))
    served = next(iter(served.values())).numpy()
    averaged = model.ema_generator(z, training=False).numpy()
    raw = model.generator(z, training=False).numpy()
    assert np.abs(served - averaged).max() < MAX_ABS_DIFF
    assert np.abs(served - raw).max() > 1e-2
    # The export holds one generator's variables, not both.
    stored = [shape for key, shape in tf.train.list_variables(os.path.join(path, "variables", "variables"))
              if key != "_CHECKPOINTABLE_OBJECT_GRAPH"]
    assert sorted(tuple(s) for s in stored) == sorted(tuple(w.shape) for w in model.ema_generator.weights)
