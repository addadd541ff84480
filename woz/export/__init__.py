"""Dataset exports: the rules they obey, their formats, dataset card and manifest."""

from woz.export.manifest import Manifest
from woz.export.run import FORMATS, export_dataset, load_definition
from woz.export.selection import INCLUDABLE, ExportRefused

__all__ = [
    "FORMATS",
    "INCLUDABLE",
    "ExportRefused",
    "Manifest",
    "export_dataset",
    "load_definition",
]
