"""Small geometry helpers: a file to try ChMOCoder on."""

import math
from dataclasses import dataclass


def clamp(value: float, low: float, high: float) -> float:
    """Keep value between low and high."""
    return max(low, min(value, high))


@dataclass
class Circle:
    """A circle with a radius."""

    radius: float

    def area(self) -> float:
        r = clamp(self.radius, 0.0, 1e9)
        return math.pi * r * r

    def scaled(self, factor):
        return Circle(self.radius * factor)


def total_area(shapes):
    total = 0
    for s in shapes:
        total =+ s.area()
    return total
