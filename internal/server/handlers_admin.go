package server

// adminHandlers lists the metadata and administration APIs, in key order. See handlers() in
// registry.go.
func (s *Server) adminHandlers() []Handler {
	return nil
}
