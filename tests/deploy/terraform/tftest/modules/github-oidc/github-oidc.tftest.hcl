# terraform test, offline: the GitHub OIDC roles planned against a mocked AWS
# provider, checking the trust policies as Terraform evaluates them.
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

run "trust_is_this_repository_only" {
  command = plan

  assert {
    condition     = toset(one([for c in data.aws_iam_policy_document.deploy_trust.statement[0].condition : c.values if c.variable == "token.actions.githubusercontent.com:sub"])) == toset(["repo:acme/users-api:environment:production"])
    error_message = "The deploy role trusts something other than acme/users-api's production environment."
  }

  assert {
    condition     = one([for c in data.aws_iam_policy_document.deploy_trust.statement[0].condition : c.test if c.variable == "token.actions.githubusercontent.com:sub"]) == "StringEquals"
    error_message = "The deploy role's subject is not matched exactly."
  }

  assert {
    condition     = toset(one([for c in data.aws_iam_policy_document.push_trust.statement[0].condition : c.values if c.variable == "token.actions.githubusercontent.com:sub"])) == toset(["repo:acme/users-api:ref:refs/heads/main", "repo:acme/users-api:ref:refs/tags/v*"])
    error_message = "The push role trusts something other than acme/users-api's main branch and v* tags."
  }

  assert {
    condition = alltrue([
      for doc in [data.aws_iam_policy_document.push_trust, data.aws_iam_policy_document.deploy_trust] :
      toset(one([for c in doc.statement[0].condition : c.values if c.variable == "token.actions.githubusercontent.com:aud"])) == toset(["sts.amazonaws.com"])
    ])
    error_message = "A role does not require the sts.amazonaws.com audience."
  }

  assert {
    condition     = length(aws_iam_openid_connect_provider.github) == 1
    error_message = "The OIDC provider is not created when none exists."
  }

  assert {
    condition     = toset(one([for s in data.aws_iam_policy_document.push.statement : s.resources if s.sid == "PushAndReadBack"])) == toset(["arn:aws:ecr:eu-west-1:123456789012:repository/users-api"])
    error_message = "The push role may write to more than the one repository."
  }
}
