"""Where instances come from (sources) and where de-identified ones go (sinks).

A folder tree now; a DICOM association, a retrieve from a PACS and object stores plug in
behind the same two interfaces, so the batch logic exists once.
"""

from pacsguard.io.sinks import FolderSink, Sink, Staged
from pacsguard.io.sources import FolderSource, Source

__all__ = ["FolderSink", "FolderSource", "Sink", "Source", "Staged"]
