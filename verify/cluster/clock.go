package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// SetClockOffset sets the offset a member adds to its wall clock through
// its /debug/clock endpoint (served with --enable-fault-injection); 0
// removes it. A member that restarts starts again with no offset.
func SetClockOffset(ctx context.Context, httpAddr string, d time.Duration) error {
	if httpAddr == "" {
		return fmt.Errorf("cluster: clock skew needs the member's admin address: %w", ErrUnsupported)
	}
	body, _ := json.Marshal(map[string]string{"offset": d.String()})
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, "http://"+httpAddr+"/debug/clock", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("cluster: clock offset on %s: %w", httpAddr, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("cluster: clock offset on %s: %s: %s", httpAddr, resp.Status, bytes.TrimSpace(msg))
	}
	return nil
}
