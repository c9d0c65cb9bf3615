package strong

import "fmt"

func hexID(id uint64) string { return fmt.Sprintf("%x", id) }
