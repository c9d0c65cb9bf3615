package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"
)

// The cairn image (deploy/build-image.sh: FROM scratch around a static
// binary) is built at most once per test run and removed by TestMain.
var image struct {
	once sync.Once
	tag  string // set once built
	err  error
}

// needDocker skips the test without a Docker engine and docker-compose, or
// fails it when CI requires them (CAIRN_REQUIRE_DOCKER).
func needDocker(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"docker", "docker-compose"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CAIRN_REQUIRE_DOCKER") != "" {
				t.Fatalf("%s is required (CAIRN_REQUIRE_DOCKER) but not found", tool)
			}
			t.Skipf("%s not found", tool)
		}
	}
}

// dockerImage builds the image once and returns its tag.
func dockerImage(t *testing.T) string {
	t.Helper()
	needDocker(t)
	image.once.Do(func() {
		root, err := moduleRoot()
		if err != nil {
			image.err = err
			return
		}
		tag := fmt.Sprintf("cairn:e2e-%d", os.Getpid())
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "bash", "deploy/build-image.sh", tag)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			image.err = fmt.Errorf("deploy/build-image.sh: %v\n%s", err, out)
			return
		}
		image.tag = tag
	})
	if image.err != nil {
		t.Fatal(image.err)
	}
	return image.tag
}

// removeImage removes the image if a test built it.
func removeImage() {
	if image.tag != "" {
		_ = exec.Command("docker", "rmi", "-f", image.tag).Run()
	}
}
