"""folder: datasets fed odd and bad files, symlink loops, crops, labels and the decode cache."""

import io
import os

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from keras_gans import data
from keras_gans.data import cache, decode, folder, stream
from keras_gans.errors import UserError


def save(path, image, **kwargs):
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, **kwargs)
    return path


def odd_folder(root):
    """Every odd and bad file of issue 15: 7 decodable files, 4 bad ones."""
    good = {}
    gray = np.full((6, 6), 100, np.uint8)
    good["gray.png"] = save(root / "gray.png", Image.fromarray(gray))
    # 16-bit grey: 65535 must become 255 and 32896 (= 128 * 257) 128, not clipped to 255.
    wide = np.array([[65535, 32896], [0, 257]], np.uint16).repeat(3, 0).repeat(3, 1)
    good["wide16.png"] = save(root / "wide16.png", Image.fromarray(wide))
    # RGBA whose fully transparent pixels hide a red colour: they must come out as the background.
    rgba = np.zeros((6, 6, 4), np.uint8)
    rgba[..., 0] = 255
    rgba[:3, ..., 3] = 255  # top half opaque red, bottom half transparent red
    good["rgba.png"] = save(root / "rgba.png", Image.fromarray(rgba, "RGBA"))
    palette = Image.new("P", (6, 6), 1)
    palette.putpalette([0, 0, 255] + [0, 255, 0] + [0] * 762)
    good["palette_transparent.png"] = save(root / "palette_transparent.png", palette, transparency=1)
    opaque = Image.new("P", (6, 6), 0)
    opaque.putpalette([0, 0, 255] + [0] * 765)
    good["palette.gif"] = save(root / "palette.gif", opaque)
    good["cmyk.jpg"] = save(root / "cmyk.jpg", Image.new("CMYK", (6, 6), (0, 255, 255, 0)))  # red
    jpeg = io.BytesIO()
    Image.new("RGB", (6, 6), (0, 0, 0)).save(jpeg, "JPEG")
    (root / "jpeg_named.png").write_bytes(jpeg.getvalue())
    good["jpeg_named.png"] = root / "jpeg_named.png"
    png = io.BytesIO()
    Image.fromarray(np.zeros((64, 64, 3), np.uint8) + 7).save(png, "PNG")
    (root / "truncated.png").write_bytes(png.getvalue()[:60])
    (root / "text.png").write_text("this is not an image")
    (root / "empty.png").write_bytes(b"")
    (root / "la_named.jpg").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    return good


def test_odd_and_bad_files_all_load_or_are_skipped_with_one_warning(tmp_path, capsys):
    good = odd_folder(tmp_path)
    source = data.open_source(f"folder:{tmp_path}", image_shape=(6, 6, 3), cache_dir=str(tmp_path / "cache"))
    warning = capsys.readouterr().err
    assert len(source) == len(good) == 7
    assert warning.count("\n") == 1 and "skipped 4 file(s)" in warning
    for name in ("truncated.png", "text.png", "empty.png", "la_named.jpg"):
        assert name in warning
    assert "empty.png (empty file)" in warning and "text.png (cannot identify image file)" in warning
    by_name = dict(zip(sorted(good), source.images))
    np.testing.assert_array_equal(by_name["gray.png"], np.full((6, 6, 3), 100))
    np.testing.assert_array_equal(by_name["wide16.png"][0, :, 0], [255, 255, 255, 128, 128, 128])
    np.testing.assert_array_equal(by_name["wide16.png"][3, :, 0], [0, 0, 0, 1, 1, 1])
    np.testing.assert_array_equal(by_name["rgba.png"][0, 0], [255, 0, 0])
    np.testing.assert_array_equal(by_name["rgba.png"][5, 0], [255, 255, 255])  # white, not the hidden red
    np.testing.assert_array_equal(by_name["palette_transparent.png"][0, 0], [255, 255, 255])
    np.testing.assert_array_equal(by_name["palette.gif"][0, 0], [0, 0, 255])
    assert by_name["cmyk.jpg"][2, 2, 0] > 240 and by_name["cmyk.jpg"][2, 2, 1:].max() < 15
    assert by_name["jpeg_named.png"].max() < 5
    black = data.open_source(f"folder:{tmp_path}", image_shape=(6, 6, 3), background="black",
                             cache_dir=str(tmp_path / "cache"))
    np.testing.assert_array_equal(dict(zip(sorted(good), black.images))["rgba.png"][5, 0], [0, 0, 0])


def test_sixteen_bit_first_image_keeps_the_folder_grey(tmp_path):
    save(tmp_path / "a.png", Image.fromarray(np.full((4, 5), 40000, np.uint16)))
    save(tmp_path / "b.png", Image.fromarray(np.full((8, 8), 9, np.uint8)))
    source = data.open_source(f"folder:{tmp_path}")
    assert source.image_shape == (4, 5, 1)
    assert source.images[0, 0, 0, 0] == round(40000 / 257)


def test_center_crop_takes_the_largest_centred_square(tmp_path):
    # 2 rows x 4 columns: columns 1 and 2 are the centred 2x2 square.
    pixels = np.array([[10, 20, 30, 40], [50, 60, 70, 80]], np.uint8)
    save(tmp_path / "wide.png", Image.fromarray(pixels))
    cropped = data.open_source(f"folder:{tmp_path}", image_shape=(2, 2, 1), crop="center").images[0, ..., 0]
    np.testing.assert_array_equal(cropped, [[20, 30], [60, 70]])
    squashed = data.open_source(f"folder:{tmp_path}", image_shape=(2, 2, 1)).images[0, ..., 0]
    assert not np.array_equal(squashed, cropped)  # the default squashes the whole image instead
    assert decode.center_crop(Image.new("L", (3, 7))).size == (3, 3)
    # Without a shape, the first image's centred square sets it: no resize, the same pixels.
    unsized = data.open_source(f"folder:{tmp_path}", crop="center").images[0, ..., 0]
    np.testing.assert_array_equal(unsized, [[20, 30], [60, 70]])


def test_symlink_loops_add_nothing_and_do_not_escape(tmp_path):
    root = tmp_path / "d"
    save(root / "a.png", Image.new("L", (4, 4)))
    save(root / "sub" / "b.png", Image.new("L", (4, 4)))
    save(tmp_path / "outside.png", Image.new("L", (4, 4)))
    os.symlink(".", root / "self")
    os.symlink("..", root / "up")
    os.symlink("..", root / "sub" / "parent")
    os.symlink(root / "sub", root / "again")  # sorts before "sub": the plain path must still win
    os.symlink(root / "a.png", root / "0_link.png")
    save(tmp_path / "elsewhere" / "c.png", Image.new("L", (4, 4)))
    os.symlink(tmp_path / "elsewhere", root / "linked")  # a symlinked folder outside DIR is followed
    assert [e.relpath for e in folder.list_images(str(root))] == [
        "a.png", os.path.join("linked", "c.png"), os.path.join("sub", "b.png")]


def test_class_sub_folders_give_sorted_labels(tmp_path):
    for name, count in [("dog", 2), ("cat", 3)]:
        for i in range(count):
            save(tmp_path / name / f"{i}.png", Image.new("L", (4, 4), 50 if name == "cat" else 200))
    source = data.open_source(f"folder:{tmp_path}", image_shape=(4, 4, 1))
    assert source.class_names == ["cat", "dog"] and data.class_names(f"folder:{tmp_path}") == ["cat", "dog"]
    images, labels = next(iter(data.load(f"folder:{tmp_path}", batch_size=5, image_shape=(4, 4, 1), labels=True)))
    assert labels.dtype.name == "int32" and sorted(labels.numpy().tolist()) == [0, 0, 0, 1, 1]
    # Each label stays with its image through the shuffle: cats are dark.
    np.testing.assert_array_equal(images.numpy()[:, 0, 0, 0] < 0, labels.numpy() == 0)
    save(tmp_path / "stray.png", Image.new("L", (4, 4)))  # an image outside any class folder
    for call in (lambda: data.class_names(f"folder:{tmp_path}"),
                 lambda: data.load(f"folder:{tmp_path}", batch_size=2, labels=True)):
        with pytest.raises(UserError, match="sub-folder") as error:
            call()
        assert "\n" not in str(error.value)


def test_labels_from_sample_and_default_output_unchanged():
    images, labels = next(iter(data.load("sample", batch_size=16, seed=3, labels=True)))
    plain = next(iter(data.load("sample", batch_size=16, seed=3)))
    np.testing.assert_array_equal(images.numpy(), plain.numpy())
    assert labels.dtype.name == "int32" and data.class_names("sample")[7] == "Sneaker"  # Fashion-MNIST names
    source = data.open_source("sample", limit=64)
    first = next(iter(data.make_dataset(source, 8, seed=1, repeat=True, start_batch=3, labels=True)))
    plain = next(iter(data.make_dataset(source, 8, seed=1, repeat=True, start_batch=3)))
    np.testing.assert_array_equal(first[0].numpy(), plain.numpy())
    np.testing.assert_array_equal(data.to_uint8(first[0].numpy()), source.images[_index_of(source, first[0])])
    np.testing.assert_array_equal(first[1].numpy(), source.labels[_index_of(source, first[0])])


def _index_of(source, batch):
    flat = source.images.reshape(len(source), -1).astype(np.int64)
    wanted = data.to_uint8(batch.numpy()).reshape(len(batch), -1).astype(np.int64)
    return [int(np.flatnonzero((flat == row).all(1))[0]) for row in wanted]


def test_second_load_reads_the_cache_without_decoding(tmp_path, monkeypatch):
    for i in range(3):
        save(tmp_path / f"{i}.png", Image.new("RGB", (5, 5), (i * 50, 0, 0)))
    first = data.open_source(f"folder:{tmp_path}", image_shape=(4, 4, 3))
    assert os.listdir(tmp_path / ".keras_gans_cache")

    def no_decoding(*args, **kwargs):
        raise AssertionError("decoded again despite the cache")

    monkeypatch.setattr(decode, "decode_file", no_decoding)
    np.testing.assert_array_equal(data.open_source(f"folder:{tmp_path}", image_shape=(4, 4, 3)).images, first.images)
    with pytest.raises(AssertionError, match="decoded again"):  # other options: another key
        data.open_source(f"folder:{tmp_path}", image_shape=(4, 4, 1))
    os.utime(tmp_path / "1.png", ns=(1, 1))  # a changed file: another key
    with pytest.raises(AssertionError, match="decoded again"):
        data.open_source(f"folder:{tmp_path}", image_shape=(4, 4, 3))


def test_unwritable_data_folder_caches_in_the_user_cache(tmp_path, monkeypatch):
    save(tmp_path / "data" / "a.png", Image.new("L", (4, 4)))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "home_cache"))
    # A cache folder under a plain file cannot be created, even by root (chmod would not stop root).
    monkeypatch.setattr(cache, "CACHE_FOLDER", "a.png/cache")
    data.open_source(f"folder:{tmp_path / 'data'}", image_shape=(4, 4, 1))
    assert sorted(os.listdir(tmp_path / "home_cache" / "keras_gans"))[0].endswith(".good.npy")
    assert sorted(os.listdir(tmp_path / "data")) == ["a.png"]


def test_progress_line_reports_rate_and_time_left(capsys):
    progress = folder.Progress("decoding x", 100, every_s=1e-9)
    progress.update(50)
    progress.close()
    err = capsys.readouterr().err
    assert "50/100 images" in err and "images/s" in err and "s left" in err


@pytest.mark.parametrize("kwargs, message", [
    ({"crop": "middle"}, "unknown crop"),
    ({"background": "grey"}, "unknown background"),
    ({"image_shape": (4, 4, 2)}, "1 or 3 channels"),
])
def test_folder_option_errors_are_one_line(tmp_path, kwargs, message):
    save(tmp_path / "a.png", Image.new("L", (4, 4)))
    with pytest.raises(UserError, match=message) as error:
        data.open_source(f"folder:{tmp_path}", **kwargs)
    assert "\n" not in str(error.value)


def test_streaming_gives_the_in_memory_batches(tmp_path, capsys, monkeypatch):
    rng = np.random.default_rng(0)
    for i in range(23):
        pixels = rng.integers(0, 255, (9, 7, 3), np.uint8)
        save(tmp_path / "d" / ("a" if i % 3 else "b") / f"{i}.png", Image.fromarray(pixels))
    (tmp_path / "d" / "a" / "bad.png").write_text("not an image")
    spec, shape = f"folder:{tmp_path / 'd'}", (8, 8, 3)
    memory = data.open_source(spec, image_shape=shape, cache_dir=str(tmp_path / "c1"))
    streamed = data.open_source(spec, image_shape=shape, cache_dir=str(tmp_path / "c2"), max_memory_gb=1e-6)
    assert isinstance(streamed.images, stream.DiskImages) and isinstance(memory.images, np.ndarray)
    assert len(streamed) == len(memory) == 23 and capsys.readouterr().err.count("skipped 1 file") == 2
    np.testing.assert_array_equal(np.asarray(streamed.images), memory.images)
    np.testing.assert_array_equal(streamed.labels, memory.labels)
    for kwargs in [dict(repeat=True, start_batch=0), dict(repeat=True, start_batch=7), dict(labels=True)]:
        pairs = zip(data.make_dataset(memory, 5, seed=4, **kwargs), data.make_dataset(streamed, 5, seed=4, **kwargs))
        for _, (a, b) in zip(range(9), pairs):
            for x, y in zip(tf.nest.flatten(a), tf.nest.flatten(b)):
                np.testing.assert_array_equal(x.numpy(), y.numpy())
    # A second streamed open reads the on-disk cache: no decoding (but for the bad file's reason in the warning).
    def only_the_bad_file(path, *args, **kwargs):
        assert str(path).endswith("bad.png"), f"{path} decoded again despite the cache"
        raise decode.BadImage("not an image")

    monkeypatch.setattr(decode, "decode_file", only_the_bad_file)
    again = data.open_source(spec, image_shape=shape, cache_dir=str(tmp_path / "c2"), max_memory_gb=1e-6)
    np.testing.assert_array_equal(again.images[[0, 22]], memory.images[[0, 22]])


def test_large_jpeg_is_decoded_at_reduced_scale_to_nearly_the_same_pixels(tmp_path):
    y, x = np.mgrid[0:512, 0:640]
    photo = np.stack([x * 255 // 640, y * 255 // 512, (x + y) % 256 // 2 + 64], -1).astype(np.uint8)
    save(tmp_path / "photo.jpg", Image.fromarray(photo), quality=95)
    with Image.open(tmp_path / "photo.jpg") as image:
        decode.draft(image, (64, 64), "center")
        assert image.size == (80, 64)  # 1/8 scale: its 64x64 centre still covers the 64x64 target
    fast = decode.decode_file(tmp_path / "photo.jpg", (64, 64), 3, "center")
    with Image.open(tmp_path / "photo.jpg") as image:
        full = np.asarray(decode.center_crop(image.convert("RGB")).resize((64, 64), Image.Resampling.BICUBIC))
    assert np.abs(fast.astype(int) - full).mean() < 3


def test_bad_first_file_does_not_decide_the_shape(tmp_path, capsys):
    (tmp_path / "0_bad.png").write_bytes(b"")
    save(tmp_path / "1.png", Image.new("RGB", (5, 3), (9, 9, 9)))
    source = data.open_source(f"folder:{tmp_path}")
    assert source.image_shape == (3, 5, 3) and len(source) == 1
    assert "0_bad.png" in capsys.readouterr().err


def test_streamed_resume_picks_up_the_same_stream(tmp_path):
    rng = np.random.default_rng(1)
    for i in range(13):
        save(tmp_path / f"{i:02d}.png", Image.fromarray(rng.integers(0, 255, (4, 4, 3), np.uint8)))
    source = data.open_source(f"folder:{tmp_path}", image_shape=(4, 4, 3), max_memory_gb=1e-9)
    assert isinstance(source.images, stream.DiskImages)
    whole = [b.numpy() for _, b in zip(range(12), data.make_dataset(source, 4, seed=9, repeat=True))]
    resumed = [b.numpy() for _, b in zip(range(5), data.make_dataset(source, 4, seed=9, repeat=True, start_batch=7))]
    np.testing.assert_array_equal(np.stack(resumed), np.stack(whole[7:]))  # crosses pass boundaries (13 images)


def test_worker_shards_read_only_their_part_and_make_up_the_global_batch(tmp_path, monkeypatch):
    for i in range(10):
        save(tmp_path / f"{i}.png", Image.new("L", (2, 2), i * 20))
    source = data.open_source(f"folder:{tmp_path}", image_shape=(2, 2, 1), max_memory_gb=1e-9)
    read = []
    take = source.images.take
    monkeypatch.setattr(source.images, "take", lambda indices: read.append(len(indices)) or take(indices))
    whole = [b.numpy() for _, b in zip(range(4), data.make_dataset(source, 6, seed=2, repeat=True, start_batch=1))]
    read.clear()
    parts = [[b.numpy() for _, b in zip(range(4), data.make_dataset(source, 6, seed=2, repeat=True, start_batch=1,
                                                                      shard=(w, 3)))] for w in range(3)]
    assert set(read) == {2}  # each worker read 2 rows per batch, not 6
    for step in range(4):
        np.testing.assert_array_equal(np.concatenate([parts[w][step] for w in range(3)]), whole[step])
    with pytest.raises(UserError, match="multiple of 4"):
        data.make_dataset(source, 6, seed=2, repeat=True, shard=(0, 4))


def test_jpeg_with_an_exif_orientation_is_decoded_upright(tmp_path):
    # A phone photo stored 60 wide x 20 high, tagged "turn 90 degrees clockwise to show" (orientation 6):
    # shown, it is 20 wide x 60 high, and the stored picture's left third (red) is at the top.
    stored = np.zeros((20, 60, 3), np.uint8)
    stored[:, :20] = (255, 0, 0)
    stored[:, 20:] = (0, 0, 255)
    image = Image.fromarray(stored)
    exif = image.getexif()
    exif[decode.EXIF_ORIENTATION] = 6
    path = save(tmp_path / "phone.jpg", image, exif=exif, quality=95)
    assert decode.size_of(str(path)) == (60, 20)
    upright = decode.decode_file(str(path), (60, 20), 3)
    assert upright[2, 10, 0] > 200 and upright[2, 10, 2] < 50  # red at the top
    assert upright[-3, 10, 2] > 200 and upright[-3, 10, 0] < 50  # blue at the bottom
    plain = save(tmp_path / "plain.jpg", image, quality=95)  # no tag: as stored
    assert decode.size_of(str(plain)) == (20, 60)


def test_a_file_given_as_the_folder_says_so(tmp_path):
    path = save(tmp_path / "one.png", Image.new("L", (4, 4)))
    with pytest.raises(UserError, match="is a file, not a folder"):
        folder.read_folder(str(path), image_shape=(4, 4, 1))


def test_unreachable_links_are_named_in_a_warning(tmp_path, capsys):
    root = tmp_path / "d"
    save(root / "a.png", Image.new("L", (4, 4)))
    os.symlink("loop_b.png", root / "loop_a.png")
    os.symlink("loop_a.png", root / "loop_b.png")
    os.symlink("missing.png", root / "dangling.png")
    images, _, _ = folder.read_folder(str(root), image_shape=(4, 4, 1), cache_dir=str(tmp_path / "cache"))
    assert len(images) == 1
    warning = capsys.readouterr().err
    assert "left out 3 sub-folder(s) or link(s)" in warning
    assert "dangling.png" in warning and "loop_a.png" in warning and "loop_b.png" in warning


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads folders whatever their mode")
def test_unreadable_folders_are_named(tmp_path, capsys):
    root = tmp_path / "d"
    save(root / "a" / "x.png", Image.new("L", (4, 4)))
    save(root / "b" / "y.png", Image.new("L", (4, 4)))
    os.chmod(root / "a", 0)
    try:
        images, labels, names = folder.read_folder(str(root), image_shape=(4, 4, 1), cache_dir=str(tmp_path / "c"))
        assert len(images) == 1 and "left out 1" in capsys.readouterr().err
        os.chmod(root, 0)
        with pytest.raises(UserError, match="cannot be read"):
            folder.read_folder(str(root), image_shape=(4, 4, 1), cache_dir=str(tmp_path / "c"))
    finally:
        os.chmod(root, 0o755)
        os.chmod(root / "a", 0o755)


@pytest.mark.parametrize("shape", [(0, 0, 3), (-4, 4, 1), (4.5, 4, 1)])
def test_a_bad_image_shape_is_one_line(tmp_path, shape):
    save(tmp_path / "d" / "a.png", Image.new("L", (4, 4)))
    with pytest.raises(UserError, match="positive whole height and width"):
        folder.read_folder(str(tmp_path / "d"), image_shape=shape)
