"""Qt-free controllers that turn user intent into engine requests and apply results to the document."""
