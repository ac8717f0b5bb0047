"""The parts of `demos/benchmark.py`: what every workload shares (`common`), the peers
(`scalar_peers`: gradwalk, micrograd and plain floats; `array_peers`: gradwalk's replay and
PyTorch), one process's run (`run`) and the tables (`report`)."""
