package local

import (
	"github.com/access911/access911-infra/internal/feedbench"
)

// Endpoints are the server's, with a token minted for subject.
func (s *Server) Endpoints(subject string) feedbench.FeedEndpoints {
	return feedbench.FeedEndpoints{API: s.URL, Feed: s.Feed.URL, Token: s.Feed.Token(subject)}
}
