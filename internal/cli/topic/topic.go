package topic

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/sluicehq/sluice/internal/cli"
	"github.com/sluicehq/sluice/internal/cli/connect"
)

// Command returns `topic` with its subcommands. getenv looks environment variables up
// (SLUICE_BROKERS); the binary passes os.Getenv.
func Command(getenv func(string) string) *cobra.Command {
	var conn connect.Flags
	cmd := &cobra.Command{
		Use:   "topic",
		Short: "Create, list, describe, configure and delete topics",
	}
	conn.Register(cmd.PersistentFlags(), getenv)
	cmd.AddCommand(createCommand(&conn), listCommand(&conn), describeCommand(&conn),
		alterConfigCommand(&conn), addPartitionsCommand(&conn), deleteCommand(&conn))
	return cmd
}

// withAdmin runs fn with an admin client for the command's connection flags.
func withAdmin(cmd *cobra.Command, conn *connect.Flags, fn func(context.Context, *kadm.Client) error) error {
	ctx := cli.Context(cmd.Context())
	adm, err := cli.NewAdmin(ctx, conn)
	if err != nil {
		return err
	}
	defer adm.Close()
	return fn(ctx, adm)
}

// statusTable prints TOPIC STATUS rows in the order of names and returns ErrFailed when
// any failed.
func statusTable(w io.Writer, names []string, status func(string) (msg string, err error)) error {
	t := cli.NewTable(w, "TOPIC", "STATUS")
	failed := 0
	for _, n := range names {
		msg, err := status(n)
		if err != nil {
			failed++
		}
		t.Row(n, cli.ErrText(err, msg))
	}
	if err := t.Flush(); err != nil {
		return err
	}
	if failed > 0 {
		return cli.Failedf("%d of %d topics failed", failed, len(names))
	}
	return nil
}

func createCommand(conn *connect.Flags) *cobra.Command {
	var (
		partitions  int32
		replicas    int16
		configs     []string
		dryRun      bool
		ifNotExists bool
	)
	cmd := &cobra.Command{
		Use:   "create TOPIC...",
		Short: "Create topics",
		Long: `Create topics with a partition count, a replication factor and topic configs.

-1 (the default) for --partitions or --replicas takes the broker's num.partitions or
default.replication.factor. Each -c key=value sets one topic config (retention.ms,
cleanup.policy, …; see docs/CONFIG.md).`,
		Example: `  sluice topic create orders -p 3
  sluice topic create compacted -c cleanup.policy=compact -c min.compaction.lag.ms=60000`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, topics []string) error {
			if partitions == 0 || partitions < -1 {
				return cli.Usagef("--partitions must be positive or -1 (the broker's default), not %d", partitions)
			}
			if replicas == 0 || replicas < -1 {
				return cli.Usagef("--replicas must be positive or -1 (the broker's default), not %d", replicas)
			}
			kv, err := cli.ParseKeyValues("-c/--config", configs)
			if err != nil {
				return err
			}
			cfg := make(map[string]*string, len(kv))
			for k, v := range kv {
				cfg[k] = &v
			}
			return withAdmin(cmd, conn, func(ctx context.Context, adm *kadm.Client) error {
				create := adm.CreateTopics
				if dryRun {
					create = adm.ValidateCreateTopics
				}
				resp, err := create(ctx, partitions, replicas, cfg, topics...)
				if err != nil {
					return fmt.Errorf("creating topics: %w", err)
				}
				return statusTable(cmd.OutOrStdout(), topics, func(n string) (string, error) {
					r, ok := resp[n]
					switch {
					case !ok:
						return "", fmt.Errorf("no answer from the broker")
					case ifNotExists && r.Err == kerr.TopicAlreadyExists:
						return "", nil
					}
					return r.ErrMessage, r.Err
				})
			})
		},
	}
	fs := cmd.Flags()
	fs.Int32VarP(&partitions, "partitions", "p", -1, "number of partitions (-1: the broker's num.partitions)")
	fs.Int16VarP(&replicas, "replicas", "r", -1, "replication factor (-1: the broker's default.replication.factor)")
	fs.StringArrayVarP(&configs, "config", "c", nil, "topic config key=value (repeatable)")
	fs.BoolVar(&dryRun, "dry-run", false, "validate the request without creating anything")
	fs.BoolVar(&ifNotExists, "if-not-exists", false, "succeed for topics that already exist")
	return cmd
}

func listCommand(conn *connect.Flags) *cobra.Command {
	var internal bool
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List topics with their partition counts and replication factors",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withAdmin(cmd, conn, func(ctx context.Context, adm *kadm.Client) error {
				list := adm.ListTopics
				if internal {
					list = adm.ListTopicsWithInternal
				}
				tds, err := list(ctx)
				if err != nil {
					return fmt.Errorf("listing topics: %w", err)
				}
				t := cli.NewTable(cmd.OutOrStdout(), "NAME", "PARTITIONS", "REPLICAS")
				for _, td := range tds.Sorted() {
					if td.Err != nil {
						t.Row(td.Topic, "-", td.Err)
						continue
					}
					t.Row(td.Topic, len(td.Partitions), replicationFactor(td))
				}
				return t.Flush()
			})
		},
	}
	cmd.Flags().BoolVarP(&internal, "internal", "i", false, "include internal topics (__consumer_offsets, …)")
	return cmd
}

// replicationFactor is the replica count of the topic's partitions (the largest, should
// they differ during a reassignment).
func replicationFactor(td kadm.TopicDetail) int {
	rf := 0
	for _, p := range td.Partitions {
		rf = max(rf, len(p.Replicas))
	}
	return rf
}

func describeCommand(conn *connect.Flags) *cobra.Command {
	var summary, configs, partitions bool
	cmd := &cobra.Command{
		Use:   "describe TOPIC...",
		Short: "Show a topic's partitions, replicas, offsets and configs",
		Long: `Show topics in three sections: SUMMARY (id, partition count, replication factor),
CONFIGS (every topic config with its value and source: DYNAMIC_TOPIC_CONFIG for the
topic's own override, a broker layer or DEFAULT_CONFIG) and PARTITIONS (leader, leader
epoch, replicas, in-sync replicas, log start offset and high watermark). With -s, -c or
-p only the sections asked for are printed.`,
		Example: `  sluice topic describe orders
  sluice topic describe orders -p`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, topics []string) error {
			if !summary && !configs && !partitions {
				summary, configs, partitions = true, true, true
			}
			return withAdmin(cmd, conn, func(ctx context.Context, adm *kadm.Client) error {
				w := cmd.OutOrStdout()
				for i, topic := range topics {
					if i > 0 {
						fmt.Fprintln(w)
					}
					if err := describe(ctx, adm, w, topic, summary, configs, partitions, len(topics) > 1); err != nil {
						return err
					}
				}
				return nil
			})
		},
	}
	fs := cmd.Flags()
	fs.BoolVarP(&summary, "print-summary", "s", false, "print the summary section")
	fs.BoolVarP(&configs, "print-configs", "c", false, "print the configs section")
	fs.BoolVarP(&partitions, "print-partitions", "p", false, "print the partitions section")
	return cmd
}

func describe(ctx context.Context, adm *kadm.Client, w io.Writer, topic string, summary, configs, partitions, named bool) error {
	md, err := adm.Metadata(ctx, topic)
	if err != nil {
		return fmt.Errorf("describing %s: %w", topic, err)
	}
	td, ok := md.Topics[topic]
	if !ok || td.Err != nil {
		if !ok || td.Err == kerr.UnknownTopicOrPartition {
			return cli.Failedf("topic %s does not exist (`sluice topic list` shows the topics)", topic)
		}
		return fmt.Errorf("describing %s: %w", topic, td.Err)
	}
	first := true
	title := func(s string) {
		if named {
			s += " (" + topic + ")"
		}
		cli.Section(w, s, first)
		first = false
	}
	if summary {
		title("SUMMARY")
		t := cli.NewTable(w)
		t.Row("NAME", topic)
		t.Row("ID", base64.RawURLEncoding.EncodeToString(td.ID[:]))
		t.Row("INTERNAL", td.IsInternal)
		t.Row("PARTITIONS", len(td.Partitions))
		t.Row("REPLICAS", replicationFactor(td))
		if err := t.Flush(); err != nil {
			return err
		}
	}
	if configs {
		rcs, err := adm.DescribeTopicConfigs(ctx, topic)
		if err != nil {
			return fmt.Errorf("describing the configs of %s: %w", topic, err)
		}
		rc, err := rcs.On(topic, nil)
		if err == nil {
			err = rc.Err
		}
		if err != nil {
			return fmt.Errorf("describing the configs of %s: %w", topic, err)
		}
		title("CONFIGS")
		if err := cli.ConfigTable(w, rc.Configs); err != nil {
			return err
		}
	}
	if partitions {
		start, err := adm.ListStartOffsets(ctx, topic)
		if err != nil {
			return fmt.Errorf("listing the start offsets of %s: %w", topic, err)
		}
		end, err := adm.ListEndOffsets(ctx, topic)
		if err != nil {
			return fmt.Errorf("listing the end offsets of %s: %w", topic, err)
		}
		title("PARTITIONS")
		parts := td.Partitions.Sorted()
		withErr := false
		for _, p := range parts {
			withErr = withErr || p.Err != nil
		}
		headers := []string{"PARTITION", "LEADER", "EPOCH", "REPLICAS", "ISR", "LOG-START-OFFSET", "HIGH-WATERMARK"}
		if withErr {
			headers = append(headers, "ERROR")
		}
		t := cli.NewTable(w, headers...)
		for _, p := range parts {
			row := []any{p.Partition, p.Leader, p.LeaderEpoch, cli.Int32s(p.Replicas), cli.Int32s(p.ISR),
				offsetText(start, topic, p.Partition), offsetText(end, topic, p.Partition)}
			if withErr {
				errText := "-"
				if p.Err != nil {
					errText = p.Err.Error()
				}
				row = append(row, errText)
			}
			t.Row(row...)
		}
		if err := t.Flush(); err != nil {
			return err
		}
	}
	return nil
}

func offsetText(lo kadm.ListedOffsets, topic string, p int32) string {
	o, ok := lo.Lookup(topic, p)
	if !ok || o.Err != nil {
		return "-"
	}
	return fmt.Sprint(o.Offset)
}

func alterConfigCommand(conn *connect.Flags) *cobra.Command {
	var set, del, appendKV, subtract []string
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "alter-config TOPIC...",
		Short: "Set, delete, append to or subtract from topic configs",
		Long: `Change topic configs with IncrementalAlterConfigs: keys not named keep their values.
--delete removes the topic's override, so the key falls back to the broker's value.
--append and --subtract add items to or remove them from a list config
(cleanup.policy=delete,compact).`,
		Example: `  sluice topic alter-config orders --set retention.ms=86400000
  sluice topic alter-config orders --delete retention.ms`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, topics []string) error {
			alters, err := alterations(set, del, appendKV, subtract)
			if err != nil {
				return err
			}
			return withAdmin(cmd, conn, func(ctx context.Context, adm *kadm.Client) error {
				alter := adm.AlterTopicConfigs
				if dryRun {
					alter = adm.ValidateAlterTopicConfigs
				}
				resp, err := alter(ctx, alters, topics...)
				if err != nil {
					return fmt.Errorf("altering configs: %w", err)
				}
				return statusTable(cmd.OutOrStdout(), topics, func(n string) (string, error) {
					r, err := resp.On(n, nil)
					if err != nil {
						return "", fmt.Errorf("no answer from the broker")
					}
					return r.ErrMessage, r.Err
				})
			})
		},
	}
	fs := cmd.Flags()
	fs.StringArrayVarP(&set, "set", "s", nil, "set a config, key=value (repeatable)")
	fs.StringArrayVarP(&del, "delete", "d", nil, "delete the topic's value of a key (repeatable)")
	fs.StringArrayVar(&appendKV, "append", nil, "append to a list config, key=value (repeatable)")
	fs.StringArrayVar(&subtract, "subtract", nil, "remove from a list config, key=value (repeatable)")
	fs.BoolVar(&dryRun, "dry-run", false, "validate the change without applying it")
	return cmd
}

// Alterations turns --set/--delete/--append/--subtract flag values into incremental
// alterations. A key may appear once over all of them.
func alterations(set, del, appendKV, subtract []string) ([]kadm.AlterConfig, error) {
	seen := map[string]bool{}
	var out []kadm.AlterConfig
	add := func(op kadm.IncrementalOp, flag string, args []string, withValue bool) error {
		for _, a := range args {
			k, v := a, ""
			if withValue {
				var err error
				if k, v, err = cli.ParseKeyValue(flag, a); err != nil {
					return err
				}
			} else if k == "" {
				return cli.Usagef("%s: empty key", flag)
			}
			if seen[k] {
				return cli.Usagef("%s is named twice", k)
			}
			seen[k] = true
			ac := kadm.AlterConfig{Op: op, Name: k}
			if withValue {
				ac.Value = &v
			}
			out = append(out, ac)
		}
		return nil
	}
	for _, e := range []struct {
		op        kadm.IncrementalOp
		flag      string
		args      []string
		withValue bool
	}{
		{kadm.SetConfig, "--set", set, true},
		{kadm.DeleteConfig, "--delete", del, false},
		{kadm.AppendConfig, "--append", appendKV, true},
		{kadm.SubtractConfig, "--subtract", subtract, true},
	} {
		if err := add(e.op, e.flag, e.args, e.withValue); err != nil {
			return nil, err
		}
	}
	if len(out) == 0 {
		return nil, cli.Usagef("nothing to change: give --set, --delete, --append or --subtract")
	}
	return out, nil
}

func addPartitionsCommand(conn *connect.Flags) *cobra.Command {
	var num int
	cmd := &cobra.Command{
		Use:   "add-partitions TOPIC...",
		Short: "Add partitions to topics",
		Long: `Add --num partitions to each topic. Partitions can only be added: records with a key
may map to a different partition afterwards.`,
		Example: `  sluice topic add-partitions orders --num 3`,
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, topics []string) error {
			if num <= 0 {
				return cli.Usagef("--num must be positive, not %d", num)
			}
			return withAdmin(cmd, conn, func(ctx context.Context, adm *kadm.Client) error {
				resp, err := adm.CreatePartitions(ctx, num, topics...)
				if err != nil {
					return fmt.Errorf("adding partitions: %w", err)
				}
				return statusTable(cmd.OutOrStdout(), topics, func(n string) (string, error) {
					r, ok := resp[n]
					if !ok {
						return "", kerr.UnknownTopicOrPartition
					}
					return r.ErrMessage, r.Err
				})
			})
		},
	}
	cmd.Flags().IntVarP(&num, "num", "n", 0, "number of partitions to add to each topic")
	return cmd
}

func deleteCommand(conn *connect.Flags) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "delete TOPIC...",
		Aliases: []string{"rm"},
		Short:   "Delete topics and all their records",
		Long:    `Delete topics and all their records, at once: there is no confirmation prompt.`,
		Example: `  sluice topic delete orders`,
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, topics []string) error {
			return withAdmin(cmd, conn, func(ctx context.Context, adm *kadm.Client) error {
				resp, err := adm.DeleteTopics(ctx, topics...)
				if err != nil {
					return fmt.Errorf("deleting topics: %w", err)
				}
				return statusTable(cmd.OutOrStdout(), topics, func(n string) (string, error) {
					r, ok := resp[n]
					if !ok {
						return "", fmt.Errorf("no answer from the broker")
					}
					return r.ErrMessage, r.Err
				})
			})
		},
	}
	return cmd
}
