from setuptools import find_packages, setup

setup(
    name="keras_gans",
    version="0.1.0",
    description="The classic GANs (GAN, DCGAN, WGAN, WGAN-GP) as Keras 3 models: train with fit, serve with TF Serving.",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    packages=find_packages(include=["keras_gans", "keras_gans.*"]),
    package_data={"keras_gans": ["resources/fashion_mnist_sample/*", "resources/fashion_mnist_classifier.*"]},
    include_package_data=True,
    install_requires=[
        "tensorflow>=2.16",  # Keras 3 era; tf.data, tf.distribute, SavedModel
        "keras>=3.5",
        "tensorflow-datasets>=4.9",
        "importlib_resources",  # tensorflow-datasets imports it but does not declare it
        "tensorboard",  # tf.summary needs it and tensorflow no longer pulls it in
        "absl-py",
        "numpy",
        "scipy",
        "pillow",
        "imageio",
        "matplotlib",
    ],
    extras_require={
        # gRPC client protos for TF Serving; tests parse the warm-up records with them. Version N
        # requires tensorflow>=N: pin it to your TensorFlow (e.g. ==2.21.*) or pip may upgrade TensorFlow.
        "serving": ["tensorflow-serving-api"],
        # pytest-xdist: the suite runs on every core (pytest.ini), 1.6x faster on 2 cores.
        "test": ["pytest>=7", "pytest-xdist>=3", "tensorflow-serving-api"],
    },
)
