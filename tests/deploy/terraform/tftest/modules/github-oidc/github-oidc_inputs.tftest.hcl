# terraform test, offline: the GitHub OIDC module's provider reuse and input
# validation (github-oidc.tftest.hcl holds the trust assertions).
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
  name_prefix        = "users-api-test"
  github_repository  = "acme/users-api"
  ecr_repository_arn = "arn:aws:ecr:eu-west-1:123456789012:repository/users-api"
  eks_cluster_arn    = "arn:aws:eks:eu-west-1:123456789012:cluster/users-api-test"
}

run "reuses_an_existing_provider" {
  command = plan

  variables {
    existing_oidc_provider_arn = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
  }

  assert {
    condition     = length(aws_iam_openid_connect_provider.github) == 0
    error_message = "A second OIDC provider would be created."
  }
}

run "rejects_wildcards" {
  command = plan

  variables {
    github_repository = "acme/*"
    push_refs         = ["refs/heads/*"]
  }

  expect_failures = [var.github_repository, var.push_refs]
}
