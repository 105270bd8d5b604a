package cluster

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/sluicehq/sluice/internal/cli"
	"github.com/sluicehq/sluice/internal/cli/connect"
)

// Command returns `cluster` with its subcommands. getenv looks environment variables up
// (SLUICE_BROKERS).
func Command(getenv func(string) string) *cobra.Command {
	var conn connect.Flags
	cmd := &cobra.Command{
		Use:   "cluster",
		Short: "Show the cluster: id, controller, brokers, topics",
	}
	conn.Register(cmd.PersistentFlags(), getenv)
	cmd.AddCommand(infoCommand(&conn))
	return cmd
}

func infoCommand(conn *connect.Flags) *cobra.Command {
	return &cobra.Command{
		Use:     "info",
		Aliases: []string{"metadata"},
		Short:   "Show the cluster id, the controller, the brokers and the number of topics",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cli.Context(cmd.Context())
			adm, err := cli.NewAdmin(ctx, conn)
			if err != nil {
				return err
			}
			defer adm.Close()
			return info(ctx, cmd, adm)
		},
	}
}

func info(ctx context.Context, cmd *cobra.Command, adm *kadm.Client) error {
	md, err := adm.Metadata(ctx)
	if err != nil {
		return fmt.Errorf("reading the cluster metadata: %w", err)
	}
	w := cmd.OutOrStdout()
	cli.Section(w, "CLUSTER", true)
	t := cli.NewTable(w)
	t.Row("ID", md.Cluster)
	t.Row("CONTROLLER", md.Controller)
	if err := t.Flush(); err != nil {
		return err
	}

	cli.Section(w, "BROKERS", false)
	t = cli.NewTable(w, "ID", "HOST", "PORT", "RACK")
	for _, b := range md.Brokers {
		rack := "-"
		if b.Rack != nil {
			rack = *b.Rack
		}
		t.Row(b.NodeID, b.Host, b.Port, rack)
	}
	if err := t.Flush(); err != nil {
		return err
	}

	var topics, internal, partitions int
	for _, td := range md.Topics {
		if td.IsInternal {
			internal++
			continue
		}
		topics++
		partitions += len(td.Partitions)
	}
	cli.Section(w, "TOPICS", false)
	t = cli.NewTable(w)
	t.Row("TOPICS", topics)
	t.Row("PARTITIONS", partitions)
	t.Row("INTERNAL-TOPICS", internal)
	return t.Flush()
}
