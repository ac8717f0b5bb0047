"""gradwalk.nn: neurons, layers and MLPs built from engine Values."""
