// Command hello is the example build that scripts/run.sh sends through cachegate.
package main

import (
	"fmt"
	"os"

	"example.com/hello/greet"
)

func main() {
	name := "team"
	if len(os.Args) > 1 {
		name = os.Args[1]
	}
	fmt.Println(greet.Hello(name))
}
