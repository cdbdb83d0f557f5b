// Command hello prints "ok": the stand-in for capstan in the image tests.
package main

import "fmt"

func main() { fmt.Println("ok") }
