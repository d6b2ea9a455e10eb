"""The multi-process production layout (docs/scale.md): ``python -m deploy.layout``."""
