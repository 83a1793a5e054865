// Package compose holds the files of the Docker Compose stack, and loads
// the repository's docker-compose.yml with the Compose specification's own
// loader (for the tests that check it).
package compose

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
)

// Load loads root/docker-compose.yml as `docker compose` would, with
// relative paths resolved against root.
func Load(ctx context.Context, root string) (*types.Project, error) {
	opts, err := cli.NewProjectOptions([]string{filepath.Join(root, "docker-compose.yml")},
		cli.WithWorkingDirectory(root), cli.WithName("activity-audit"))
	if err != nil {
		return nil, fmt.Errorf("load docker-compose.yml: %w", err)
	}
	p, err := opts.LoadProject(ctx)
	if err != nil {
		return nil, fmt.Errorf("load docker-compose.yml: %w", err)
	}
	return p, nil
}
