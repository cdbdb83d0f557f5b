package app

import "github.com/urfave/cli/v2"

func outputFlag() cli.Flag {
	return &cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "output format: text, json or yaml", Value: "text"}
}
