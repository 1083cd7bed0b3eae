"""Cloud product actions the converter knows without a local corpus, written as the OOS tasks they run.

Each definition does what the OOS action of the same name does (the same API calls, checks and waits, in
the same order); the converter inlines it as a nested template (a block of its own), so a converted
playbook runs it with no ``action_templates_path``. Other product actions the converter does not map are
delegated to OOS (one-task execution) unless ``action_templates_path`` holds their definition.
"""
from __future__ import annotations

INSTALL_CLOUD_ASSISTANT = """
FormatVersion: OOS-2019-06-01
Description: ACS::ECS::InstallCloudAssistant (alicloud.oos built-in)
Parameters:
  regionId: {Type: String, Default: '{{ ACS::RegionId }}'}
  instanceId: {Type: String, MinLength: 1, MaxLength: 30}
Tasks:
  - Name: checkInstanceReady
    Action: ACS::CheckFor
    Properties:
      Service: ECS
      API: DescribeInstances
      Parameters: {RegionId: '{{ regionId }}', InstanceIds: ['{{ instanceId }}']}
      PropertySelector: Instances.Instance[].Status
      DesiredValues: [Running]
  - Name: queryCloudAssistantReady
    Action: ACS::ExecuteAPI
    Properties:
      Service: ECS
      API: DescribeCloudAssistantStatus
      Parameters: {RegionId: '{{ regionId }}', InstanceId: ['{{ instanceId }}']}
    Outputs:
      cloudAssistantStatus:
        Type: String
        ValueSelector: InstanceCloudAssistantStatusSet.InstanceCloudAssistantStatus[].CloudAssistantStatus
  - Name: whetherCloudAssistantIsReady
    Action: ACS::Choice
    Properties:
      DefaultTask: waitDataRecover
      Choices:
        - When: {'Fn::Equals': ['true', '{{ queryCloudAssistantReady.cloudAssistantStatus }}']}
          NextTask: waitCloudAssistantStatusReachtrue
  - Name: waitDataRecover
    Action: ACS::Sleep
    Properties: {Duration: PT1M}
  - Name: queryCloudAssistantStatus
    Action: ACS::ExecuteAPI
    Properties:
      Service: ECS
      API: DescribeCloudAssistantStatus
      Parameters: {RegionId: '{{ regionId }}', InstanceId: ['{{ instanceId }}']}
    Outputs:
      cloudAssistantStatus:
        Type: String
        ValueSelector: InstanceCloudAssistantStatusSet.InstanceCloudAssistantStatus[].CloudAssistantStatus
  - Name: whetherCloudAssistantStatusIsTrue
    Action: ACS::Choice
    Properties:
      DefaultTask: installCloudAssistant
      Choices:
        - When: {'Fn::Equals': ['true', '{{ queryCloudAssistantStatus.cloudAssistantStatus }}']}
          NextTask: waitCloudAssistantStatusReachtrue
  - Name: installCloudAssistant
    Action: ACS::ExecuteAPI
    Properties:
      Service: ECS
      API: InstallCloudAssistant
      Parameters: {RegionId: '{{ regionId }}', InstanceIds: ['{{ instanceId }}']}
  - Name: rebootInstance
    Action: ACS::ExecuteAPI
    Properties:
      Service: ECS
      API: RebootInstance
      Parameters: {RegionId: '{{ regionId }}', InstanceId: '{{ instanceId }}'}
  - Name: untilInstanceReady
    Action: ACS::WaitFor
    Properties:
      Service: ECS
      API: DescribeInstances
      Parameters: {RegionId: '{{ regionId }}', InstanceIds: ['{{ instanceId }}']}
      PropertySelector: Instances.Instance[].Status
      DesiredValues: [Running]
  - Name: waitCloudAssistantStatusReachtrue
    Action: ACS::WaitFor
    Properties:
      Service: ECS
      API: DescribeCloudAssistantStatus
      Parameters: {RegionId: '{{ regionId }}', InstanceIds: ['{{ instanceId }}']}
      PropertySelector: InstanceCloudAssistantStatusSet.InstanceCloudAssistantStatus[].CloudAssistantStatus
      DesiredValues: ['true']
"""

CREATE_SNAPSHOT = """
FormatVersion: OOS-2019-06-01
Description: ACS::ECS::CreateSnapshot (alicloud.oos built-in)
Parameters:
  regionId: {Type: String, Default: '{{ ACS::RegionId }}'}
  diskId: {Type: String, MinLength: 1, MaxLength: 30}
  snapshotName: {Type: String, Default: ''}
  retentionDays: {Type: String, Default: ''}
  tags: {Type: Json, Default: []}
Tasks:
  - Name: describeDisks
    Action: ACS::ExecuteAPI
    Properties:
      Service: ECS
      API: DescribeDisks
      Parameters: {RegionId: '{{ regionId }}', DiskIds: ['{{ diskId }}']}
    Outputs:
      instanceIds: {Type: List, ValueSelector: 'Disks.Disk[].InstanceId'}
  - Name: whetherDiskAttachedToInstance
    Action: ACS::Choice
    Properties:
      DefaultTask: waitUtilInstanceRunningOrStopped
      Choices:
        - When: {'Fn::Equals': [[''], '{{ describeDisks.instanceIds }}']}
          NextTask: createSnapshot
        - When: {'Fn::Equals': [[], '{{ describeDisks.instanceIds }}']}
          NextTask: ACS::END
  - Name: waitUtilInstanceRunningOrStopped
    Action: ACS::WaitFor
    Delay: 20
    Retries: 30
    DelayType: Constant
    Properties:
      Service: ECS
      API: DescribeInstances
      Parameters: {RegionId: '{{ regionId }}', InstanceIds: '{{ describeDisks.instanceIds }}'}
      PropertySelector: Instances.Instance[].Status
      DesiredValues: [Running, Stopped]
  - Name: createSnapshot
    Action: ACS::ExecuteAPI
    Properties:
      Service: ECS
      API: CreateSnapshot
      Parameters:
        RegionId: '{{ regionId }}'
        DiskId: '{{ diskId }}'
        SnapshotName: '{{ snapshotName }}'
        Tags: '{{ tags }}'
        RetentionDays: {'Fn::If': [{'Fn::Equals': ['', '{{ retentionDays }}']}, null, '{{ retentionDays }}']}
    Outputs:
      snapshotId: {Type: String, ValueSelector: SnapshotId}
  - Name: untilSnapshotsReady
    Action: ACS::WaitFor
    Retries: 57
    Properties:
      Service: ECS
      API: DescribeSnapshots
      Parameters: {RegionId: '{{ regionId }}', SnapshotIds: ['{{ createSnapshot.snapshotId }}']}
      PropertySelector: Snapshots.Snapshot[].Status
      DesiredValues: [accomplished]
      StopRetryValues: [failed]
Outputs:
  snapshotId: {Type: String, Value: '{{ createSnapshot.snapshotId }}'}
"""

# Lower-cased action name -> its definition (OOS template text).
DEFINITIONS = {
    "acs::ecs::installcloudassistant": INSTALL_CLOUD_ASSISTANT,
    "acs::ecs::createsnapshot": CREATE_SNAPSHOT,
}
