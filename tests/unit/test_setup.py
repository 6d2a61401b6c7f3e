"""Guards on what set-up installs."""

from importlib import metadata


def test_no_cuda_packages_were_pulled_into_the_environment() -> None:
    # A bare `torch` requirement pulls a multi-GB CUDA build with nvidia-* wheels.
    names = {dist.metadata["Name"].lower() for dist in metadata.distributions()}
    assert {name for name in names if name.startswith("nvidia-")} == set()
