# terraform test, offline: the dev root planned against a mocked AWS
# provider. Copied into a scratch copy of deploy/terraform/envs/dev by
# tests/deploy/terraform/validate.sh; never run against a real account.
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
  aws_region                           = "eu-west-1"
  aws_account_id                       = "123456789012"
  github_repository                    = "example-org/users-api"
  cluster_endpoint_public_access_cidrs = ["0.0.0.0/0"]
}

run "plans" {
  command = plan

  assert {
    condition     = output.eks_cluster_name == "users-api-dev"
    error_message = "The cluster is not named users-api-dev."
  }

  assert {
    condition     = toset(keys(output.github_repository_variables)) == toset(["AWS_ACCOUNT_ID", "AWS_DEPLOY_ROLE_ARN", "AWS_ECR_PUSH_ROLE_ARN", "AWS_REGION", "EKS_CLUSTER_NAME"])
    error_message = "The outputs do not name every repository variable the release workflow reads."
  }

  assert {
    condition     = length(output.database_subnet_cidrs) == 2
    error_message = "Dev spreads the database subnets over two zones."
  }
}
