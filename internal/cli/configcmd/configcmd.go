package configcmd

import (
	"context"
	"fmt"
	"strconv"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/sluicehq/sluice/internal/cli"
	"github.com/sluicehq/sluice/internal/cli/connect"
)

// Command returns `config` with its subcommands. getenv looks environment variables up
// (SLUICE_BROKERS).
func Command(getenv func(string) string) *cobra.Command {
	var conn connect.Flags
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Get and set topic and broker configs",
		Long: `Read and change configs of a running cluster. A resource is one of:

  topic NAME        a topic's configs
  broker ID         one broker's configs (its node.id)
  broker default    the cluster-wide default of dynamic broker configs

Keys are Kafka's (see docs/CONFIG.md); broker keys that cannot change at runtime are
refused by the broker.`,
	}
	conn.Register(cmd.PersistentFlags(), getenv)
	cmd.AddCommand(getCommand(&conn), setCommand(&conn))
	return cmd
}

// resource is a parsed `topic NAME` / `broker ID|default`.
type resource struct {
	topic    string
	broker   int32
	isBroker bool
	dflt     bool // the cluster-wide broker default
}

func (r resource) String() string {
	switch {
	case !r.isBroker:
		return "topic " + r.topic
	case r.dflt:
		return "broker default"
	}
	return fmt.Sprintf("broker %d", r.broker)
}

func parseResource(typ, name string) (resource, error) {
	switch typ {
	case "topic", "topics":
		if name == "" {
			return resource{}, cli.Usagef("the topic name is empty")
		}
		return resource{topic: name}, nil
	case "broker", "brokers":
		if name == "default" {
			return resource{isBroker: true, dflt: true}, nil
		}
		id, err := strconv.ParseInt(name, 10, 32)
		if err != nil || id < 0 {
			return resource{}, cli.Usagef("a broker is its node id or `default`, not %q", name)
		}
		return resource{isBroker: true, broker: int32(id)}, nil
	}
	return resource{}, cli.Usagef("the resource type is topic or broker, not %q", typ)
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

func getCommand(conn *connect.Flags) *cobra.Command {
	return &cobra.Command{
		Use:   "get (topic NAME | broker ID | broker default) [KEY...]",
		Short: "Print configs with their values and sources",
		Long: `Print the configs of a topic or broker with their effective values and where each value
comes from (DYNAMIC_TOPIC_CONFIG, DYNAMIC_BROKER_CONFIG, DYNAMIC_DEFAULT_BROKER_CONFIG,
STATIC_BROKER_CONFIG or DEFAULT_CONFIG). With KEYs only those.`,
		Example: `  sluice config get topic orders retention.ms
  sluice config get broker 1
  sluice config get broker default`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			res, err := parseResource(args[0], args[1])
			if err != nil {
				return err
			}
			keys := args[2:]
			return withAdmin(cmd, conn, func(ctx context.Context, adm *kadm.Client) error {
				var rcs kadm.ResourceConfigs
				switch {
				case !res.isBroker:
					rcs, err = adm.DescribeTopicConfigs(ctx, res.topic)
				case res.dflt:
					rcs, err = adm.DescribeBrokerConfigs(ctx)
				default:
					rcs, err = adm.DescribeBrokerConfigs(ctx, res.broker)
				}
				if err == nil && len(rcs) != 1 {
					err = fmt.Errorf("%d answers, want 1", len(rcs))
				}
				if err == nil && rcs[0].Err != nil {
					return cli.Failedf("%s: %s", res, cli.ErrText(rcs[0].Err, rcs[0].ErrMessage))
				}
				if err != nil {
					return fmt.Errorf("describing the configs of %s: %w", res, err)
				}
				configs := rcs[0].Configs
				if len(keys) > 0 {
					byKey := map[string]kadm.Config{}
					for _, c := range configs {
						byKey[c.Key] = c
					}
					configs = configs[:0:0]
					for _, k := range keys {
						c, ok := byKey[k]
						if !ok {
							if res.dflt {
								c = kadm.Config{Key: k} // not set as a cluster default
							} else {
								return cli.Failedf("%s has no config %s", res, k)
							}
						}
						configs = append(configs, c)
					}
				}
				return cli.ConfigTable(cmd.OutOrStdout(), configs)
			})
		},
	}
}

func setCommand(conn *connect.Flags) *cobra.Command {
	var (
		del    []string
		dryRun bool
	)
	cmd := &cobra.Command{
		Use:   "set (topic NAME | broker ID | broker default) [KEY=VALUE...] [--delete KEY...]",
		Short: "Change configs (IncrementalAlterConfigs)",
		Long: `Set configs of a topic or broker; keys not named keep their values. --delete removes a
key's value at this level, so it falls back to the next one (a topic's override to the
broker's value, a broker's dynamic value to the static one). All changes of one command
are one request: the broker applies all of them or none.`,
		Example: `  sluice config set topic orders retention.ms=86400000 cleanup.policy=compact
  sluice config set topic orders --delete retention.ms
  sluice config set broker default log.retention.ms=604800000`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			res, err := parseResource(args[0], args[1])
			if err != nil {
				return err
			}
			kv, err := cli.ParseKeyValues("KEY=VALUE", args[2:])
			if err != nil {
				return err
			}
			var alters []kadm.AlterConfig
			for _, a := range args[2:] { // in the order given
				k, _, _ := cli.ParseKeyValue("KEY=VALUE", a)
				v := kv[k]
				alters = append(alters, kadm.AlterConfig{Op: kadm.SetConfig, Name: k, Value: &v})
			}
			for _, k := range del {
				if _, dup := kv[k]; dup || k == "" {
					return cli.Usagef("--delete %q: the key is empty or also set", k)
				}
				alters = append(alters, kadm.AlterConfig{Op: kadm.DeleteConfig, Name: k})
			}
			if len(alters) == 0 {
				return cli.Usagef("nothing to change: give KEY=VALUE or --delete KEY")
			}
			return withAdmin(cmd, conn, func(ctx context.Context, adm *kadm.Client) error {
				var resp kadm.AlterConfigsResponses
				switch {
				case !res.isBroker && dryRun:
					resp, err = adm.ValidateAlterTopicConfigs(ctx, alters, res.topic)
				case !res.isBroker:
					resp, err = adm.AlterTopicConfigs(ctx, alters, res.topic)
				case res.dflt && dryRun:
					resp, err = adm.ValidateAlterBrokerConfigs(ctx, alters)
				case res.dflt:
					resp, err = adm.AlterBrokerConfigs(ctx, alters)
				case dryRun:
					resp, err = adm.ValidateAlterBrokerConfigs(ctx, alters, res.broker)
				default:
					resp, err = adm.AlterBrokerConfigs(ctx, alters, res.broker)
				}
				if err == nil && len(resp) != 1 {
					err = fmt.Errorf("%d answers, want 1", len(resp))
				}
				if err != nil {
					return fmt.Errorf("altering the configs of %s: %w", res, err)
				}
				t := cli.NewTable(cmd.OutOrStdout(), "RESOURCE", "STATUS")
				t.Row(res, cli.ErrText(resp[0].Err, resp[0].ErrMessage))
				if err := t.Flush(); err != nil {
					return err
				}
				if resp[0].Err != nil {
					return cli.Failedf("%s was not changed", res)
				}
				return nil
			})
		},
	}
	cmd.Flags().StringArrayVarP(&del, "delete", "d", nil, "remove this key's value at this level (repeatable)")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "validate the change without applying it")
	return cmd
}
