package wire

// SendfileBytes exposes the sendfile byte counter to the external tests.
func SendfileBytes() int64 { return sendfileBytes.Load() }
