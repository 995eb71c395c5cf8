# terraform test, offline: the database module planned against a mocked AWS provider.
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

run "production_settings" {
  command = plan

  assert {
    condition     = aws_db_instance.this.engine == "postgres" && startswith(aws_db_instance.this.engine_version, "15")
    error_message = "The database is not PostgreSQL 15."
  }

  assert {
    condition     = aws_db_instance.this.publicly_accessible == false
    error_message = "The database is publicly accessible."
  }

  assert {
    condition     = aws_db_instance.this.storage_encrypted
    error_message = "The database storage is not encrypted."
  }

  assert {
    condition     = aws_db_instance.this.manage_master_user_password && aws_db_instance.this.password == null
    error_message = "The master password is not left to RDS and Secrets Manager."
  }

  assert {
    condition     = aws_db_instance.this.multi_az && aws_db_instance.this.deletion_protection && !aws_db_instance.this.skip_final_snapshot
    error_message = "multi_az, deletion protection or the final snapshot is off."
  }

  assert {
    condition = alltrue([
      for rule in aws_vpc_security_group_ingress_rule.postgresql :
      rule.from_port == 5432 && rule.to_port == 5432 && rule.cidr_ipv4 == null && rule.cidr_ipv6 == null && rule.referenced_security_group_id == "sg-nodes"
    ]) && length(aws_vpc_security_group_ingress_rule.postgresql) == 1
    error_message = "PostgreSQL is reachable from something other than the node security group."
  }

  assert {
    condition     = contains([for p in aws_db_parameter_group.this.parameter : "${p.name}=${p.value}"], "rds.force_ssl=1")
    error_message = "TLS is not required."
  }
}
