"""The simulated racing world: tables generated from a seed, independent of any clock."""

from racing_platform.simulator.world.generator import generate_world, load_world
from racing_platform.simulator.world.model import World
from racing_platform.simulator.world.truth import truth_frame

__all__ = ["World", "generate_world", "load_world", "truth_frame"]
