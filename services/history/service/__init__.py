"""The history writer's service layer: batches in, one transaction each (writer.py), and what it needs
from the outside (ports.py). bootstrap.py builds it with the adapters."""
