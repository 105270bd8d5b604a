package group

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/sluicehq/sluice/internal/cli"
	"github.com/sluicehq/sluice/internal/cli/connect"
)

// Command returns `group` with its subcommands. getenv looks environment variables up
// (SLUICE_BROKERS).
func Command(getenv func(string) string) *cobra.Command {
	var conn connect.Flags
	cmd := &cobra.Command{
		Use:     "group",
		Aliases: []string{"groups"},
		Short:   "List, describe, reset (seek) and delete consumer groups",
	}
	conn.Register(cmd.PersistentFlags(), getenv)
	cmd.AddCommand(listCommand(&conn), describeCommand(&conn), seekCommand(&conn), deleteCommand(&conn))
	return cmd
}

func withAdmin(cmd *cobra.Command, conn *connect.Flags, fn func(context.Context, *kadm.Client) error) error {
	ctx := cli.Context(cmd.Context())
	adm, err := cli.NewAdmin(ctx, conn)
	if err != nil {
		return err
	}
	defer adm.Close()
	return fn(ctx, adm)
}

func listCommand(conn *connect.Flags) *cobra.Command {
	var states []string
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List consumer groups with their coordinators and states",
		Example: `  sluice group list
  sluice group list --state Stable --state Empty`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withAdmin(cmd, conn, func(ctx context.Context, adm *kadm.Client) error {
				groups, err := adm.ListGroups(ctx, states...)
				if err != nil {
					return fmt.Errorf("listing groups: %w", err)
				}
				t := cli.NewTable(cmd.OutOrStdout(), "GROUP", "COORDINATOR", "STATE", "PROTOCOL-TYPE")
				for _, g := range groups.Sorted() {
					t.Row(g.Group, g.Coordinator, g.State, dash(g.ProtocolType))
				}
				return t.Flush()
			})
		},
	}
	cmd.Flags().StringArrayVar(&states, "state", nil, "list only groups in this state (Stable, Empty, PreparingRebalance, …; repeatable)")
	return cmd
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func describeCommand(conn *connect.Flags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "describe GROUP...",
		Short: "Show a group's members, committed offsets and lag per partition",
		Long: `Show a consumer group: its coordinator, state, partition assignor and members, then one
row per partition with the committed offset (CURRENT-OFFSET; - when none), the log start
and end offsets, the lag (end minus committed) and the member that owns the partition.`,
		Example: `  sluice group describe billing`,
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, groups []string) error {
			return withAdmin(cmd, conn, func(ctx context.Context, adm *kadm.Client) error {
				lags, err := adm.Lag(ctx, groups...)
				if err != nil {
					return fmt.Errorf("describing groups: %w", err)
				}
				w := cmd.OutOrStdout()
				failed := 0
				for i, g := range groups {
					if i > 0 {
						fmt.Fprintln(w)
					}
					l, ok := lags[g]
					if err := describe(w, g, l, ok); err != nil {
						fmt.Fprintf(w, "GROUP  %s\nERROR  %v\n", g, err)
						failed++
					}
				}
				if failed > 0 {
					return cli.Failedf("%d of %d groups could not be described", failed, len(groups))
				}
				return nil
			})
		},
	}
	return cmd
}

func describe(w io.Writer, name string, l kadm.DescribedGroupLag, ok bool) error {
	switch {
	case !ok:
		return fmt.Errorf("no answer from the coordinator")
	case l.DescribeErr != nil:
		return l.DescribeErr
	case l.State == "Dead":
		return fmt.Errorf("group %s does not exist (`sluice group list` shows the groups)", name)
	case l.FetchErr != nil:
		return l.FetchErr
	}
	t := cli.NewTable(w)
	t.Row("GROUP", name)
	t.Row("COORDINATOR", l.Coordinator.NodeID)
	t.Row("STATE", l.State)
	t.Row("BALANCER", dash(l.Protocol))
	t.Row("MEMBERS", len(l.Members))
	t.Row("TOTAL-LAG", l.Lag.Total())
	if err := t.Flush(); err != nil {
		return err
	}
	rows := l.Lag.Sorted()
	if len(rows) == 0 {
		return nil
	}
	fmt.Fprintln(w)
	t = cli.NewTable(w, "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-START-OFFSET", "LOG-END-OFFSET", "LAG",
		"MEMBER-ID", "CLIENT-ID", "HOST")
	for _, r := range rows {
		current, lag := "-", "-"
		if r.Commit.At >= 0 {
			current = fmt.Sprint(r.Commit.At)
		}
		if r.Lag >= 0 {
			lag = fmt.Sprint(r.Lag)
		}
		member, client, host := "-", "-", "-"
		if r.Member != nil {
			member, client, host = r.Member.MemberID, r.Member.ClientID, r.Member.ClientHost
		}
		t.Row(r.Topic, r.Partition, current, listed(r.Start), listed(r.End), lag, member, client, host)
	}
	return t.Flush()
}

func listed(o kadm.ListedOffset) string {
	if o.Err != nil {
		return "-"
	}
	return fmt.Sprint(o.Offset)
}

func seekCommand(conn *connect.Flags) *cobra.Command {
	var (
		to     string
		topics []string
		dryRun bool
	)
	cmd := &cobra.Command{
		Use:   "seek GROUP --to POSITION",
		Short: "Reset a group's committed offsets (the group must have no members)",
		Long: `Commit new offsets for a group: --to start, end, an offset N, or @time (Unix ms, RFC 3339,
or @-1h), for every partition of the topics the group has offsets for, or of the topics
given with --topics. An offset outside a partition's log is moved to its nearest end.

As with Kafka's kafka-consumer-groups --reset-offsets, the group must have no members:
stop its consumers first. --dry-run prints the new offsets without committing them.`,
		Example: `  sluice group seek billing --to start
  sluice group seek billing --to @2024-05-01T00:00:00Z --topics orders
  sluice group seek billing --to 1000 --dry-run`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if to == "" {
				return cli.Usagef("--to is required: %s", cli.PositionHelp)
			}
			pos, err := cli.ParsePosition("--to", to, time.Now())
			if err != nil {
				return err
			}
			return withAdmin(cmd, conn, func(ctx context.Context, adm *kadm.Client) error {
				return seek(ctx, adm, cmd.OutOrStdout(), args[0], pos, topics, dryRun)
			})
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&to, "to", "", "new position: "+cli.PositionHelp)
	fs.StringSliceVar(&topics, "topics", nil, "topics to reset (default: those the group has offsets for)")
	fs.BoolVar(&dryRun, "dry-run", false, "print the new offsets without committing them")
	return cmd
}

func seek(ctx context.Context, adm *kadm.Client, w io.Writer, group string, pos cli.Position, topics []string, dryRun bool) error {
	described, err := adm.DescribeGroups(ctx, group)
	if err != nil {
		return fmt.Errorf("describing group %s: %w", group, err)
	}
	d := described[group]
	if d.Err != nil {
		return fmt.Errorf("describing group %s: %w", group, d.Err)
	}
	if len(d.Members) > 0 {
		return cli.Failedf("group %s has %d members (state %s): stop its consumers first, offsets can be reset only while the group is empty",
			group, len(d.Members), d.State)
	}
	prior, err := adm.FetchOffsets(ctx, group)
	if err == nil {
		err = prior.Error()
	}
	if err != nil {
		return fmt.Errorf("fetching the offsets of group %s: %w", group, err)
	}
	if len(topics) == 0 {
		topics = prior.Offsets().TopicsSet().Topics()
		if len(topics) == 0 {
			return cli.Usagef("group %s has no committed offsets: name the topics with --topics", group)
		}
	}
	sort.Strings(topics)
	start, err := adm.ListStartOffsets(ctx, topics...)
	if err == nil {
		err = start.Error()
	}
	if err != nil {
		if errors.Is(err, kerr.UnknownTopicOrPartition) {
			return cli.Failedf("listing offsets of %v: %v (does every topic exist?)", topics, err)
		}
		return fmt.Errorf("listing offsets: %w", err)
	}
	end, err := adm.ListEndOffsets(ctx, topics...)
	if err == nil {
		err = end.Error()
	}
	if err != nil {
		return fmt.Errorf("listing offsets: %w", err)
	}
	var byTime kadm.ListedOffsets
	if pos.Kind == cli.AtTime {
		if byTime, err = adm.ListOffsetsAfterMilli(ctx, pos.TimeMs, topics...); err == nil {
			err = byTime.Error()
		}
		if err != nil {
			return fmt.Errorf("listing offsets by time: %w", err)
		}
	}
	next := kadm.Offsets{}
	end.Each(func(e kadm.ListedOffset) {
		s, _ := start.Lookup(e.Topic, e.Partition)
		var o int64
		switch pos.Kind {
		case cli.Start:
			o = s.Offset
		case cli.End:
			o = e.Offset
		case cli.At:
			o = pos.Offset
		case cli.AtTime:
			t, ok := byTime.Lookup(e.Topic, e.Partition)
			o = e.Offset
			if ok && t.Offset >= 0 {
				o = t.Offset
			}
		}
		o = min(max(o, s.Offset), e.Offset)
		next.Add(kadm.Offset{Topic: e.Topic, Partition: e.Partition, At: o, LeaderEpoch: -1})
	})
	var committed kadm.OffsetResponses
	if !dryRun {
		if committed, err = adm.CommitOffsets(ctx, group, next); err != nil {
			return fmt.Errorf("committing the offsets of group %s: %w", group, err)
		}
	}
	headers := []string{"TOPIC", "PARTITION", "PRIOR-OFFSET", "NEW-OFFSET"}
	if !dryRun {
		headers = append(headers, "STATUS")
	}
	t := cli.NewTable(w, headers...)
	failed := 0
	for _, o := range next.Sorted() {
		was := "-"
		if p, ok := prior.Lookup(o.Topic, o.Partition); ok && p.Err == nil && p.At >= 0 {
			was = fmt.Sprint(p.At)
		}
		row := []any{o.Topic, o.Partition, was, o.At}
		if !dryRun {
			status := "OK"
			if r, ok := committed.Lookup(o.Topic, o.Partition); !ok {
				status, failed = "no answer", failed+1
			} else if r.Err != nil {
				status, failed = r.Err.Error(), failed+1
			}
			row = append(row, status)
		}
		t.Row(row...)
	}
	if err := t.Flush(); err != nil {
		return err
	}
	if failed > 0 {
		return cli.Failedf("%d partitions were not reset", failed)
	}
	return nil
}

func deleteCommand(conn *connect.Flags) *cobra.Command {
	return &cobra.Command{
		Use:     "delete GROUP...",
		Aliases: []string{"rm"},
		Short:   "Delete empty groups and their committed offsets",
		Example: `  sluice group delete billing`,
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, groups []string) error {
			return withAdmin(cmd, conn, func(ctx context.Context, adm *kadm.Client) error {
				resp, err := adm.DeleteGroups(ctx, groups...)
				if err != nil {
					return fmt.Errorf("deleting groups: %w", err)
				}
				t := cli.NewTable(cmd.OutOrStdout(), "GROUP", "STATUS")
				failed := 0
				for _, g := range groups {
					r, ok := resp[g]
					status := "OK"
					switch {
					case !ok:
						status = "no answer from the coordinator"
					case errors.Is(r.Err, kerr.NonEmptyGroup):
						status = "NON_EMPTY_GROUP: the group has members; stop its consumers first"
					case errors.Is(r.Err, kerr.GroupIDNotFound):
						status = "GROUP_ID_NOT_FOUND: no such group"
					case r.Err != nil:
						status = r.Err.Error()
					}
					if status != "OK" {
						failed++
					}
					t.Row(g, status)
				}
				if err := t.Flush(); err != nil {
					return err
				}
				if failed > 0 {
					return cli.Failedf("%d of %d groups were not deleted", failed, len(groups))
				}
				return nil
			})
		},
	}
}
