"""Where instances come from (sources) and where de-identified ones go (sinks).

A folder tree or an object store (``s3://``, ``gs://``, ``az://``, :mod:`.objectstore`); a
DICOM association or a retrieve from a PACS plug in behind the same two interfaces, so the
batch logic exists once.
"""

from pacsguard.io.objectstore import ObjectSink, ObjectSource, is_url
from pacsguard.io.sinks import FolderSink, Sink, Staged
from pacsguard.io.sources import FolderSource, Source

__all__ = ["FolderSink", "FolderSource", "ObjectSink", "ObjectSource", "Sink", "Source", "Staged",
           "is_url"]
