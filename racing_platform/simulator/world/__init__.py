"""The simulated racing world: tables generated from a seed, independent of any clock."""

from racing_platform.simulator.world.model import World

__all__ = ["World"]
