"""Data to train on, in one place: toy 2-D sets made by code (toy.py: moons, circles, XOR, blobs,
spirals, and a train/test split) and real data (real.py: the 8x8 handwritten digits scikit-learn
ships, your own CSV files, and a Standardizer). Everything is plain Python lists."""

from nn.datasets.toy import make_blobs, make_circles, make_moons, make_spiral, make_xor, train_test_split
from nn.datasets.real import Standardizer, load_csv, load_digits

__all__ = ["Standardizer", "load_csv", "load_digits", "make_blobs", "make_circles", "make_moons", "make_spiral",
           "make_xor", "train_test_split"]
