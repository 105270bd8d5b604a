package server

// dataHandlers lists the partition-data APIs, in key order. See handlers() in registry.go.
func (s *Server) dataHandlers() []Handler {
	return nil
}
