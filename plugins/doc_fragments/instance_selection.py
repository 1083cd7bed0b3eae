# -*- coding: utf-8 -*-
# Copyright: alicloud.oos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Options shared by the instance workflow modules: which instances, how many at a time, and how
the action plugin finds the instance of an inventory host (``ACTION_PLUGIN``, also used by
oos_create_image, which has its own instance options)."""


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  instance_id:
    description:
      - One ECS instance id (V(i-...)).
      - Set at most one of O(instance_id), O(instance_ids), O(targets) and O(filters)/O(tags).
      - When none of them is set and the task runs over inventory hosts, the action plugin takes each
        host's instance from its hostvars (see O(instance_id_var)) and handles all hosts of the play
        batch with shared batched API calls.
    type: str
  instance_ids:
    description:
      - ECS instance ids. Unknown ids fail the task before anything is changed.
      - Typical fleet use is C(run_once=true) with
        C("{{ ansible_play_hosts | map('extract', hostvars, 'instance_id') | list }}").
    type: list
    elements: str
  targets:
    description:
      - An OOS C(Targets) value, as in OOS templates.
      - "V({Type: ResourceIds, ResourceIds: [i-...]}), V({Type: Tags, Tags: [{Key: k, Value: v}]}),
        V({Type: ResourceGroup, ResourceGroupId: rg-...}) or V({Type: All}). An optional C(RegionId)
        must match O(region)."
      - A target that matches no instance is nothing to do (the task is V(ok), unchanged, and says so in
        C(msg)) unless O(fail_on_no_match) is set. C(ResourceIds) that do not exist are always an error.
    type: raw
  filters:
    description:
      - DescribeInstances filters, the same keys as the C(alicloud.oos.ecs) inventory's C(filters)
        (V(Status), V(VpcId), V(VSwitchId), V(ZoneId), V(InstanceName), V(InstanceType), V(ImageId),
        V(SecurityGroupId), V(ResourceGroupId), V(InstanceIds), V(PrivateIpAddresses),
        V(PublicIpAddresses), V(EipAddresses) and V(tags)).
      - Filters that match no instance are nothing to do unless O(fail_on_no_match) is set.
    type: dict
  tags:
    description:
      - "Select the instances that carry every one of these tags (V({Env: prod}); a V(null) value matches
        any value of the key). Combines with O(filters)."
    type: dict
  fail_on_no_match:
    description:
      - Fail when O(targets), O(filters) or O(tags) match no instance, instead of reporting nothing to do.
    type: bool
    default: false
  rate_control:
    description:
      - An OOS C(RateControl) value, with OOS semantics.
      - "V({Mode: Concurrency, Concurrency: 10, MaxErrors: 0}); C(Concurrency) and C(MaxErrors) are
        counts or percentages such as V('30%'). V({Mode: Batch, Batch: [1, '50%']}) is accepted too."
      - The instances are handled in waves of C(Concurrency) (or the C(Batch) sizes), each wave with
        batched API calls and awaited before the next starts. Once more failures than C(MaxErrors)
        happened, the remaining waves are not started and the task fails, naming every failed
        instance.
      - A C(BatchPauseOption) other than V(Automatic) is refused before anything is sent, in any C(Mode),
        since a module cannot wait for a person to resume it between waves.
      - Without it all instances are handled at once and any failure fails the task.
    type: raw
  batch:
    description:
      - Action plugin only. With V(true), the first host of the play batch to run the task (the leader)
        does the work of the other hosts of the batch in shared batched calls, and each host gets its
        own result.
      - The leader acts only for the hosts that Ansible runs the task for, with each host's own
        arguments, C(environment) and instance variables, computed the way ansible-core computes them
        (every variable precedence level, C(when) of the task, its blocks and role). Where that cannot be
        known exactly (the C(free) strategy, handlers, tasks inside C(include_tasks)/C(include_role) or a
        block with C(rescue), a role holding C(meta end_role), C(check_mode)/C(diff)/C(module_defaults)
        templated per host), each host makes its own call (correct, slower).
      - Tasks with a loop, C(run_once) or an explicit instance option are never batched.
      - With V(false) each host calls the API for its own instance.
    type: bool
    default: true
"""

    # alicloud.oos.instance_selection.action_plugin
    ACTION_PLUGIN = r"""
options:
  instance_id_var:
    description:
      - Action plugin only. Name of the host variable that holds the host's instance id, when the task
        names no instance (or image source) itself and runs over inventory hosts.
      - Hosts without it are matched by IP address (C(ansible_host), else the inventory hostname) with
        one batched C(DescribeInstances) call per 100 addresses (private, then public IPs); the mapping
        is cached for the rest of the run.
    type: str
    default: instance_id
"""
