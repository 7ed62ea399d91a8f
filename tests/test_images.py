"""keras_gans.images: the one pixel conversion (numpy and in-graph agree) and the grid."""

import numpy as np
import tensorflow as tf

from keras_gans.images import as_unit_range, make_grid, to_uint8


def test_to_uint8_numpy_and_graph_give_the_same_pixels():
    # 0 scales to 127.5 exactly and rounds half to even (128); out-of-range values clip.
    values = np.array([-1.5, -1.0, 0.0, 0.5, 1.0, 2.0], np.float32)
    expected = np.array([0, 0, 128, 191, 255, 255], np.uint8)
    np.testing.assert_array_equal(to_uint8(values), expected)
    assert isinstance(to_uint8(values), np.ndarray)
    in_graph = tf.function(to_uint8)(tf.constant(values))
    assert tf.is_tensor(in_graph) and in_graph.dtype == tf.uint8
    np.testing.assert_array_equal(in_graph.numpy(), expected)


def test_make_grid_takes_uint8_or_unit_range_floats():
    floats = np.random.default_rng(0).uniform(-1, 1, (5, 4, 3, 1)).astype(np.float32)
    grid = make_grid(floats, padding=1)
    assert grid.dtype == np.uint8 and grid.shape == (3 * 5 + 1, 2 * 4 + 1, 1)  # 3 rows x 2 columns
    np.testing.assert_array_equal(make_grid(to_uint8(floats), padding=1), grid)
    np.testing.assert_array_equal(grid[1:5, 1:4], to_uint8(floats[0]))
    assert grid[0].min() == 255  # white gaps
    np.testing.assert_allclose(as_unit_range(to_uint8(floats)), floats, atol=0.5 / 127.5 + 1e-6)
