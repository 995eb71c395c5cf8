# terraform test, offline: the state bucket planned against a mocked AWS provider.
mock_provider "aws" {
  # Offline: no credentials and no API calls. Data sources return these
  # values; every other computed attribute is made up by Terraform.
  mock_data "aws_availability_zones" {
    defaults = {
      names = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
    }
  }
  mock_data "aws_partition" {
    defaults = {
      partition = "aws"
    }
  }
  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "123456789012"
    }
  }
  # Resources that take a policy check that it is a JSON object.
  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
    }
  }
}

variables {
  aws_region        = "eu-west-1"
  aws_account_id    = "123456789012"
  state_bucket_name = "users-api-tfstate-123456789012"
}

run "state_bucket" {
  command = plan

  assert {
    condition     = aws_s3_bucket_versioning.state.versioning_configuration[0].status == "Enabled"
    error_message = "State versions are not kept."
  }

  assert {
    condition     = one(one(aws_s3_bucket_server_side_encryption_configuration.state.rule).apply_server_side_encryption_by_default).sse_algorithm == "aws:kms"
    error_message = "State is not encrypted with KMS."
  }

  assert {
    condition = alltrue([
      aws_s3_bucket_public_access_block.state.block_public_acls,
      aws_s3_bucket_public_access_block.state.block_public_policy,
      aws_s3_bucket_public_access_block.state.ignore_public_acls,
      aws_s3_bucket_public_access_block.state.restrict_public_buckets,
    ])
    error_message = "Public access to the state bucket is not fully blocked."
  }

  assert {
    condition     = aws_kms_key.state.enable_key_rotation
    error_message = "The state key does not rotate."
  }
}

run "rejects_an_invalid_bucket_name" {
  command = plan

  variables {
    state_bucket_name = "Users_API"
  }

  expect_failures = [var.state_bucket_name]
}
