"""Masking secrets, and only secrets (module_utils/secrets.py)."""
from __future__ import annotations

import pytest

from ansible_collections.alicloud.oos.plugins.module_utils.errors import AlicloudError, AlicloudInputError
from ansible_collections.alicloud.oos.plugins.module_utils.secrets import (
    MASK,
    Secrets,
    is_secret_name,
    parameter_secrets,
    template_secret_names,
)


def test_named_secrets_are_masked_by_key_and_in_text_and_nothing_else():
    secrets = parameter_secrets({"DbPassword": "hunter2-long", "count": "1"}, ["DbPassword"])
    result = {"instance_id": "i-bp1c1d1e1f", "output": "pw=hunter2-long n=1",
              "invocation": {"module_args": {"parameters": {"DbPassword": "hunter2-long", "count": "1"}}}}
    assert secrets.mask(result) == {"instance_id": "i-bp1c1d1e1f", "output": f"pw={MASK} n=1",
                                    "invocation": {"module_args": {"parameters": {"DbPassword": MASK, "count": "1"}}}}


def test_a_short_secret_is_masked_as_a_value_only_and_reported():
    secrets = parameter_secrets({"Pin": "1"}, ["Pin"])
    assert secrets.short_names == ("Pin",)
    assert secrets.mask({"Pin": "1", "id": "i-bp111"}) == {"Pin": MASK, "id": "i-bp111"}


def test_unknown_names_are_refused_naming_the_option():
    with pytest.raises(AlicloudInputError, match="secret_parameters: Db is not in parameters"):
        parameter_secrets({"DbPassword": "x"}, ["Db"])
    with pytest.raises(AlicloudInputError, match="secret_parameters"):
        parameter_secrets({}, "DbPassword")


def test_template_and_reference_secrets():
    template = {"Parameters": {"a": {"Type": "String", "NoEcho": True},
                               "b": {"AssociationProperty": "ALIYUN::OOS::SecretParameter::Value"}, "c": {}}}
    assert template_secret_names(template) == {"a", "b"}
    secrets = parameter_secrets({"c": "{{ oos-secret:db }}", "d": "plain"}, (), template=template, must_be_given=False)
    assert secrets.names == {"a", "b", "c"} and secrets.text_values == []  # the reference is a name, not a secret


@pytest.mark.parametrize("name, secret", [("Password", True), ("DbPassword", True), ("SecurityToken", True),
                                          ("AccessKeySecret", True), ("Authorization", True),
                                          ("x-acs-security-token", True), ("NextToken", False),
                                          ("ClientToken", False), ("InstanceId", False)])
def test_secret_names(name, secret):
    assert is_secret_name(name) is secret


def test_values_under_secret_keys_of_a_response_are_masked_everywhere():
    secrets = Secrets(secret_keys=True).with_values_in({"Credentials": {"SecurityToken": "tok-123456789"}})
    assert secrets.mask({"Credentials": {"SecurityToken": "tok-123456789"}, "outputs": {"t": "tok-123456789"},
                         "NextToken": "abc"}) == {"Credentials": MASK, "outputs": {"t": MASK},
                                                  "NextToken": "abc"}


def test_errors_are_masked():
    secrets = parameter_secrets({"DbPassword": "hunter2-long"}, ["DbPassword"])
    error = secrets.mask_error(AlicloudError("rejected hunter2-long", code="X"))
    assert "hunter2-long" not in str(error) and MASK in str(error)


def test_a_secret_inside_a_cloud_generated_id_leaves_the_id_intact():
    """Found by the independent attack: a secret that happened to be part of an instance id masked the id."""
    from ansible_collections.alicloud.oos.plugins.module_utils.secrets import Secrets

    secrets = Secrets(values=["bpjzbup6st"])
    masked = secrets.mask({"instance_id": "i-bpjzbup6sticjcz0ja99", "InstanceIds": ["i-bpjzbup6sticjcz0ja99"],
                           "output": "pw=bpjzbup6st", "RequestId": "bpjzbup6st", "Valid": "x bpjzbup6st"})
    assert masked == {"instance_id": "i-bpjzbup6sticjcz0ja99", "InstanceIds": ["i-bpjzbup6sticjcz0ja99"],
                      "output": "pw=********", "RequestId": "********", "Valid": "x ********"}


def test_the_names_listed_in_secret_parameters_are_no_secrets_themselves():
    """Found by the third #13 review: 'secret_parameters: [InstanceName]' masked the word InstanceName in every
    message ('[Invalid********.NotFound]'), because the option's name looks like a secret's."""
    args = {"secret_parameters": ["InstanceName"], "parameters": {"InstanceName": "Hunter2Secret"}}
    secrets = Secrets(names=["InstanceName"]).with_values_in(args)
    assert secrets.mask("[InvalidInstanceName.NotFound] Hunter2Secret") == "[InvalidInstanceName.NotFound] ********"
    assert not is_secret_name("secret_parameters") and is_secret_name("client_secret")
