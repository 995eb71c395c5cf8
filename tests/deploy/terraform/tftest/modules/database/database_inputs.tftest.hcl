# terraform test, offline: the database module's other settings and its input
# validation (database.tftest.hcl holds the production assertions).
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
  identifier                 = "users-api-test"
  vpc_id                     = "vpc-0123456789abcdef0"
  subnet_ids                 = ["subnet-a", "subnet-b"]
  allowed_security_group_ids = ["sg-nodes"]
  multi_az                   = true
  deletion_protection        = true
}

run "dev_settings" {
  command = plan

  variables {
    multi_az            = false
    deletion_protection = false
  }

  assert {
    condition     = !aws_db_instance.this.multi_az && aws_db_instance.this.skip_final_snapshot
    error_message = "dev settings are not applied."
  }
}

run "rejects_invalid_inputs" {
  command = plan

  variables {
    engine_version             = "16.4"
    allowed_security_group_ids = []
  }

  expect_failures = [var.engine_version, var.allowed_security_group_ids]
}
