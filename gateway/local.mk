# gateway/: the cachegate HTTP server.
