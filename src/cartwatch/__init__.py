"""cartwatch: CAR-T centre software for liso-cel in relapsed/refractory CLL/SLL."""

__version__ = "0.1.0"
